import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventTopic, type EventName } from '@spectrum-grocers/contract';
import { loadProductCatalog, type HttpRoute } from '@spectrum-grocers/runtime';
import { tempDatabase } from '@spectrum-grocers/testkit';
import { createLedger, SCHEMA } from './ledger.js';
import { causesOf, createTraceRoute, effectsOf } from './trace.js';

describe('what causes what, from the topic catalog', () => {
  it('has a departure cause payments and restock alerts, an alert a delivery, and an arrival cause welcomes', () => {
    expect(causesOf('payment-due')).toEqual(['customer-departure']);
    expect(causesOf('restock-alert')).toEqual(['customer-departure']);
    expect(causesOf('stock-delivered')).toEqual(['restock-alert']);
    expect(causesOf('display-welcome')).toEqual(['customer-arrival']);
    expect([...effectsOf('customer-departure')].sort()).toEqual(['payment-due', 'restock-alert']);
    expect(effectsOf('restock-alert')).toEqual(['stock-delivered']);
    expect(effectsOf('customer-arrival')).toEqual(['display-welcome']);
  });

  it('has nothing cause a scan at a gate, and a dead letter cause or be caused by nothing', () => {
    expect(causesOf('customer-arrival')).toEqual([]);
    expect(causesOf('customer-departure')).toEqual([]);
    expect(effectsOf('payment-due')).toEqual([]);
    expect(causesOf('dead-letter')).toEqual([]);
    expect(effectsOf('dead-letter')).toEqual([]);
  });
});

describe('GET /api/trace', () => {
  const root = { chain: 'spectrum-grocers', store: 'cr-trace' };
  const at = '2026-11-22T10:00:00.000Z';
  let db: ReturnType<typeof tempDatabase>;
  let route: HttpRoute;
  const ask = async (query: string) => {
    if (route.kind !== 'json') throw new Error('GET /api/trace is a JSON route');
    const reply = await route.handler({ body: undefined, query: Object.fromEntries(new URLSearchParams(query)) });
    return reply as {
      status: number;
      body: { error?: string; events?: string[]; event?: string; effects?: unknown[] };
    };
  };

  beforeEach(() => {
    db = tempDatabase('control-room', SCHEMA);
    const ledger = createLedger(db.db, loadProductCatalog());
    const keep = (event: EventName, payload: object) =>
      ledger.record({ kind: 'event', event }, eventTopic(root, event), Buffer.from(JSON.stringify(payload)));
    keep('customer-arrival', { event_id: 'same-2', timestamp: at, customer_id: 1 });
    keep('customer-departure', { event_id: 'same-2', timestamp: at, customer_id: 1, product_ids: [2] });
    keep('payment-due', { event_id: 'p-2', causation_id: 'same-2', timestamp: at, customer_id: 1, amount: 3 });
    route = createTraceRoute(ledger);
  });
  afterEach(() => db.close());

  it('answers 409 naming both kinds, not the arrival, when an arrival and a departure share the event_id asked for', async () => {
    const shared = await ask('?event_id=same-2');
    expect(shared.status).toBe(409);
    expect(shared.body.events).toEqual(['customer-arrival', 'customer-departure']);
    expect(shared.body.error).toMatch(/&event=/);
    const departure = await ask('?event_id=same-2&event=customer-departure');
    expect(departure).toMatchObject({
      status: 200,
      body: { event: 'customer-departure', effects: [{ event_id: 'p-2' }] },
    });
    const arrival = await ask('?event_id=same-2&event=customer-arrival');
    expect(arrival).toMatchObject({ status: 200, body: { event: 'customer-arrival', effects: [] } });
  });

  it('traces by event_id alone when it is unique; 404 for an unknown one, 400 for a bad id or kind', async () => {
    expect(await ask('?event_id=p-2')).toMatchObject({ status: 200, body: { event: 'customer-departure' } });
    expect(await ask('?event_id=nope')).toMatchObject({
      status: 404,
      body: { error: "no event nope in the control room's store" },
    });
    expect((await ask('?event_id=p-2&event=customer-arrival')).status).toBe(404);
    expect((await ask('')).status).toBe(400);
    expect((await ask('?event_id=p-2&event=payment')).status).toBe(400);
  });
});
