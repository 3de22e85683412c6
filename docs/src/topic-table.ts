import type { z } from 'zod';
import {
  deadLetterTopic,
  EVENTS,
  EVENT_NAMES,
  eventTopic,
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

/** The README's topic table, from the topic catalog. */
export function topicTable(root: TopicRoot): string {
  const rows = EVENT_NAMES.map((name) => {
    const e = EVENTS[name];
    const { required, optional } = fieldsOf(e.schema);
    const fields = [...required.map((f) => `\`${f}\``), ...optional.map((f) => `\`${f}\`?`)].join(', ');
    const subs = e.subscribers.length > 0 ? e.subscribers.join(', ') : '—';
    return `| \`${eventTopic(root, name)}\` | ${e.publisher} | ${subs} | ${fields} | ${e.summary} |`;
  });
  return [
    '| topic | publisher | subscribers | payload (`?` optional on the way in) | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    `| \`${statusTopic(root, '{service}')}\` | every service | — | \`service\`, \`status\`, \`timestamp\` | retained \`online\`/\`offline\`; offline is also the last will |`,
    `| \`${deadLetterTopic(root, '{service}')}\` | every consumer | — | \`event_id\`, \`timestamp\`, \`service\`, \`reason\`, \`topic\`, \`payload\`, \`encoding\` | a message the service refused, and why |`,
  ].join('\n');
}

/** The README with its topic table (between the topic-table markers) made anew from the catalog. */
export function replaceTopicTable(readme: string, root: TopicRoot): string {
  return readme.replace(
    /(<!-- prettier-ignore-start -->\n)[\s\S]*?(\n<!-- prettier-ignore-end -->\n<!-- topic-table:end -->)/,
    (_, open: string, close: string) => `${open}${topicTable(root)}${close}`,
  );
}
