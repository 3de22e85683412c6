import type { z } from 'zod';
import { EVENTS, EVENT_NAMES, type TopicRoot } from './topics.js';

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
    return `| \`${root.chain}/${root.store}/${name}\` | ${e.publisher} | ${subs} | ${fields} | ${e.summary} |`;
  });
  return [
    '| topic | publisher | subscribers | payload (`?` optional on the way in) | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    `| \`${root.chain}/${root.store}/status/{service}\` | every service | — | \`service\`, \`status\`, \`timestamp\` | retained \`online\`/\`offline\`; offline is also the last will |`,
    `| \`${root.chain}/${root.store}/dead-letter/{service}\` | every consumer | — | \`event_id\`, \`timestamp\`, \`service\`, \`reason\`, \`topic\`, \`payload\`, \`encoding\` | a message the service refused, and why |`,
  ].join('\n');
}
