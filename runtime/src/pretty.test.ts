import { describe, expect, it } from 'vitest';
import { prettyLine, shortId } from './pretty.js';

const plain = { color: false, width: 80 };
const at = new Date(2026, 10, 24, 19, 28, 29, 389).getTime();
const record = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time: at, pid: 4242, service: 'fastlane-finale', ...fields });
const TOPIC = 'spectrum-grocers/fresh-frontier/customer-departure';
const EVENT_ID = 'b56ca8dd-56ff-4d80-9b63-fe24f7c30f80';

describe('pretty log lines', () => {
  it('prints an event as time, level and message on one line, without the service or pid', () => {
    const line = prettyLine(record({ msg: 'departure b56ca8dd customer 1: 4 items, $10.06 billed' }), plain);
    expect(line).toBe('19:28:29.389 INF departure b56ca8dd customer 1: 4 items, $10.06 billed\n');
  });

  // Regression: each simulated scan printed its topic twice and the whole scan, over 350 columns.
  it('keeps an info line within the width, leaving out the fields that do not fit', () => {
    const scan = { timestamp: '2026-11-24T19:28:28.992Z', customer_id: 1, product_ids: [23, 35, 83, 90] };
    const line = prettyLine(
      record({
        msg: 'departure b56ca8dd customer 1: 4 items scanned',
        event: 'customer-departure',
        topic: TOPIC,
        scan,
      }),
      plain,
    );
    expect(line.split('\n')).toHaveLength(2);
    expect(line.length - 1).toBeLessThanOrEqual(80);
    expect(line).toBe('19:28:29.389 INF departure b56ca8dd customer 1: 4 items scanned\n');
    expect(line).not.toContain(TOPIC);
  });

  it('shows short fields as key=value, an event id by its first 8 characters', () => {
    const line = prettyLine(record({ msg: 'subscribed', eventId: EVENT_ID, count: 3, note: 'two words' }), plain);
    expect(line).toBe('19:28:29.389 INF subscribed eventId=b56ca8dd count=3 note="two words"\n');
  });

  it('shows every field of a warning, each value cut at 40 characters', () => {
    const reason = `product_ids not in the catalog: ${Array.from({ length: 30 }, (_, i) => i + 200).join(', ')}`;
    const line = prettyLine(
      record({ level: 40, msg: 'refused a customer-departure; sent to dead-letter', eventId: EVENT_ID, reason }),
      plain,
    );
    expect(line).toMatch(
      /^19:28:29\.389 WRN refused a customer-departure; sent to dead-letter eventId=b56ca8dd reason="/,
    );
    expect(line).toContain('…');
    expect(line.split('\n')).toHaveLength(2);
  });

  it('puts an error code and message on the line and its first stack frames under it', () => {
    const err = {
      type: 'AppError',
      code: 'BROKER_DOWN',
      message: 'connection refused',
      stack: `AppError: connection refused\n${Array.from({ length: 20 }, (_, i) => `    at frame${i} (file.js:${i}:1)`).join('\n')}`,
    };
    const line = prettyLine(record({ level: 50, msg: 'handling failed; retrying', err, attempt: 2 }), plain);
    const [first, ...frames] = line.trimEnd().split('\n');
    expect(first).toBe('19:28:29.389 ERR handling failed; retrying err=BROKER_DOWN: connection refused attempt=2');
    expect(frames).toHaveLength(8);
    expect(frames[0]).toBe('    at frame0 (file.js:0:1)');
  });

  it('puts a message written over several lines on one', () => {
    expect(prettyLine(record({ msg: 'first\n  second' }), plain)).toBe('19:28:29.389 INF first second\n');
  });

  it('colours the level and dims the fields only when asked to', () => {
    const line = prettyLine(record({ level: 40, msg: 'outbox not drained', pending: 3 }), { color: true, width: 80 });
    expect(line).toBe('19:28:29.389 \u001b[33mWRN\u001b[39m outbox not drained \u001b[90mpending=3\u001b[39m\n');
  });

  it('passes a line that is not JSON through as it is', () => {
    expect(prettyLine('not json', plain)).toBe('not json\n');
  });

  it('shows a long topic by its last level', () => {
    const line = prettyLine(record({ level: 40, msg: 'message on a topic with no handler', topic: TOPIC }), plain);
    expect(line).toBe('19:28:29.389 WRN message on a topic with no handler topic=…/customer-departure\n');
  });

  it('lists an array of topics by their last levels', () => {
    const topics = [TOPIC, 'spectrum-grocers/fresh-frontier/#'];
    const line = prettyLine(record({ msg: 'subscribed', topics }), { color: false, width: 100 });
    expect(line).toBe('19:28:29.389 INF subscribed topics=…/customer-departure,spectrum-grocers/f…\n');
  });

  it('shortens only ids, leaving other text whole', () => {
    expect(shortId(EVENT_ID)).toBe('b56ca8dd');
    expect(shortId('dep-42-1')).toBe('dep-42-1');
  });
});
