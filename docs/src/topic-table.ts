import type { z } from 'zod';
import {
  deadLetterTopic,
  EVENTS,
  EVENT_NAMES,
  eventTopics,
  type EventName,
  statusTopic,
  type TopicRoot,
} from '@spectrum-grocers/contract';

function fieldsOf(schema: z.ZodType): { required: string[]; optional: string[] } {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
  const entries = Object.entries(shape);
  return {
    required: entries.filter(([, s]) => !s.safeParse(undefined).success).map(([k]) => k),
    optional: entries.filter(([, s]) => s.safeParse(undefined).success).map(([k]) => k),
  };
}

const TRAVELS = { store: 'store', up: '↑ HQ', down: '↓ from HQ' } as const;

function publisherOf(name: EventName): string {
  const e = EVENTS[name];
  return 'alsoFrom' in e ? `${e.publisher}; ${e.alsoFrom} (HQ)` : e.publisher;
}

/** The README's topic table, from the topic catalog. */
export function topicTable(root: TopicRoot): string {
  const rows = EVENT_NAMES.map((name) => {
    const e = EVENTS[name];
    const { required, optional } = fieldsOf(e.schema);
    const fields = [...required.map((f) => `\`${f}\``), ...optional.map((f) => `\`${f}\`?`)].join(', ');
    const subs = e.subscribers.length > 0 ? e.subscribers.join(', ') : '—';
    const topics = eventTopics(root, name)
      .map((t) => `\`${t}\``)
      .join('<br>');
    return `| ${topics} | ${publisherOf(name)} | ${subs} | ${TRAVELS[e.travels]} | ${fields} | ${e.summary} |`;
  });
  return [
    '| topic | publisher | subscribers | chain | payload (`?` optional on the way in) | meaning |',
    '|---|---|---|---|---|---|',
    ...rows,
    `| \`${statusTopic(root, '{service}')}\` | every service | — | ↑ HQ | \`service\`, \`status\`, \`timestamp\` | retained \`online\`/\`offline\`; offline is also the last will |`,
    `| \`${deadLetterTopic(root, '{service}')}\` | every consumer | — | ↑ HQ | \`event_id\`, \`timestamp\`, \`service\`, \`reason\`, \`topic\`, \`payload\`, \`encoding\` | a message the service refused, and why |`,
  ].join('\n');
}

/** The README with its topic table (between the topic-table markers) made anew from the catalog. */
export function replaceTopicTable(readme: string, root: TopicRoot): string {
  return readme.replace(
    /(<!-- prettier-ignore-start -->\n)[\s\S]*?(\n<!-- prettier-ignore-end -->\n<!-- topic-table:end -->)/,
    (_, open: string, close: string) => `${open}${topicTable(root)}${close}`,
  );
}
