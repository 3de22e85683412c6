import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deriveEventId } from '@spectrum-grocers/contract';
import { quietLogger, tempDatabase } from '@spectrum-grocers/testkit';
import { createArrivalHandler, GENERIC_WELCOME, SCHEMA, seedCustomers } from './customer-arrival.js';

const now = new Date('2026-11-22T10:00:00Z');

describe('hello-helper: customer-arrival', () => {
  let store: ReturnType<typeof tempDatabase>;
  let handle: ReturnType<typeof createArrivalHandler>;
  beforeEach(() => {
    store = tempDatabase('hello-helper', SCHEMA);
    seedCustomers(store.db);
    handle = createArrivalHandler({ db: store.db, clock: () => now, log: quietLogger() });
  });
  afterEach(() => store.close());

  it('welcomes a known customer by name on the display', () => {
    const [out] = handle({ event_id: 'a-1', timestamp: now.toISOString(), customer_id: 1 });
    expect(out!.event).toBe('display-welcome');
    expect(out!.payload).toEqual({
      event_id: deriveEventId('display-welcome', 'a-1'),
      causation_id: 'a-1',
      timestamp: now.toISOString(),
      customer_id: 1,
      name: 'Dave',
      message: 'Welcome, Dave',
    });
  });

  it('seeds the ten original customers', () => {
    expect(store.db.prepare('SELECT count(*) AS n FROM customers').get()).toEqual({ n: 10 });
  });

  it('gives an unknown card a polite generic welcome', () => {
    const [out] = handle({ event_id: 'a-2', timestamp: now.toISOString(), customer_id: 4242 });
    expect(out!.payload).toMatchObject({ customer_id: 4242, name: null, message: GENERIC_WELCOME });
  });
});
