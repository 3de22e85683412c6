import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROOT } from '@spectrum-grocers/contract';
import { replaceTopicTable, topicTable } from './topic-table.js';

describe('README topic table', () => {
  const table = topicTable(DEFAULT_ROOT);

  it('lists every event with its publisher, subscribers and fields', () => {
    expect(table).toContain(
      '| `spectrum-grocers/fresh-frontier/customer-departure` | gateexit-guardian | inventory-intel, fastlane-finale | store | `timestamp`, `customer_id`, `product_ids`, `event_id`? |',
    );
  });

  it('is the one in the README (regenerate with `pnpm docs:topics`)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(table);
    expect(replaceTopicTable(readme, DEFAULT_ROOT)).toBe(readme);
  });
});
