import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterTopic, eventTopic, type EventName } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { tempDatabase } from '@spectrum-grocers/testkit';
import { createLedger, SCHEMA, type Ledger } from './ledger.js';
import { MAX_REASON_CHARS } from './views.js';

const root = { chain: 'spectrum-grocers', store: 'cr-views' };
const at = '2026-11-22T10:00:00.000Z';
const catalog = loadProductCatalog();
const json = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));
const byId = <T extends { event_id: string }>(rows: T[]) =>
  [...rows].sort((a, b) => a.event_id.localeCompare(b.event_id));

describe('what the control room lists: names, payments, restocking, dead letters', () => {
  let db: ReturnType<typeof tempDatabase>;
  let ledger: Ledger;
  const keep = (event: EventName, payload: object) =>
    ledger.record({ kind: 'event', event }, eventTopic(root, event), json(payload));
  const welcome = (id: string, customer_id: number, name: string | null) =>
    keep('display-welcome', { event_id: id, timestamp: at, customer_id, name, message: 'Welcome' });
  const letter = (service: string, body: unknown) =>
    ledger.record({ kind: 'dead-letter', service }, deadLetterTopic(root, service), json(body));

  beforeEach(() => {
    db = tempDatabase('control-room', SCHEMA);
    ledger = createLedger(db.db, catalog);
  });
  afterEach(() => db.close());

  it('names each paying customer by the latest name a welcome gave them; a customer never named has none', () => {
    welcome('w-1', 7, 'Dave');
    welcome('w-2', 7, 'David');
    welcome('w-3', 7, null);
    keep('payment-due', { event_id: 'p-1', causation_id: 'd-1', timestamp: at, customer_id: 7, amount: 4.5 });
    keep('payment-due', { event_id: 'p-2', causation_id: 'd-2', timestamp: at, customer_id: 8, amount: 1 });
    expect(byId(ledger.payments(10))).toEqual([
      { event_id: 'p-1', timestamp: at, customer_id: 7, customer_name: 'David', amount: 4.5 },
      { event_id: 'p-2', timestamp: at, customer_id: 8, customer_name: null, amount: 1 },
    ]);
    expect(ledger.payments(1)).toHaveLength(1);
    expect([ledger.customerName(7), ledger.customerName(8)]).toEqual(['David', undefined]);
  });

  it('names the customers of a trace', () => {
    welcome('w-4', 4, 'Alice');
    keep('customer-departure', { event_id: 'd-4', timestamp: at, customer_id: 4, product_ids: [1] });
    keep('payment-due', { event_id: 'p-4', causation_id: 'd-4', timestamp: at, customer_id: 4, amount: 2 });
    keep('customer-departure', { event_id: 'd-5', timestamp: at, customer_id: 5, product_ids: [1] });
    const trace = ledger.trace('payment-due', 'p-4')!;
    expect([trace.customer_name, trace.effects[0]!.customer_name]).toEqual(['Alice', 'Alice']);
    expect(ledger.trace('customer-departure', 'd-5')).not.toHaveProperty('customer_name');
  });

  it('learns the names of the welcomes a store kept before it kept names', () => {
    welcome('w-6', 6, 'Carol');
    db.db.exec('DELETE FROM customers');
    expect(createLedger(db.db, catalog).customerName(6)).toBe('Carol');
  });

  it('lists restock alerts with the delivery that answered each, and every delivery with the alert it answers', () => {
    const eggs = catalog.get(3)!;
    keep('restock-alert', { event_id: 'a-1', causation_id: 'd-1', timestamp: at, item_id: 3, quantity: 0 });
    keep('restock-alert', { event_id: 'a-2', causation_id: 'd-2', timestamp: at, item_id: 4, quantity: 2 });
    const delivery = {
      event_id: 'sd-1',
      causation_id: 'a-1',
      timestamp: at,
      delivery_id: 'del-1',
      product_id: 3,
      quantity: 40,
    };
    keep('stock-delivered', delivery);
    keep('stock-delivered', { event_id: 'sd-2', timestamp: at, delivery_id: 'del-2', product_id: 4, quantity: 5 });
    expect(byId(ledger.restockAlerts(10))).toEqual([
      {
        event_id: 'a-1',
        timestamp: at,
        product_id: 3,
        product: eggs.name,
        quantity: 0,
        delivery: { event_id: 'sd-1', quantity: 40, timestamp: at },
      },
      { event_id: 'a-2', timestamp: at, product_id: 4, product: catalog.get(4)!.name, quantity: 2, delivery: null },
    ]);
    expect(byId(ledger.deliveries(10))).toEqual([
      {
        event_id: 'sd-1',
        timestamp: at,
        delivery_id: 'del-1',
        product_id: 3,
        product: eggs.name,
        quantity: 40,
        alert_id: 'a-1',
      },
      {
        event_id: 'sd-2',
        timestamp: at,
        delivery_id: 'del-2',
        product_id: 4,
        product: catalog.get(4)!.name,
        quantity: 5,
        alert_id: null,
      },
    ]);
    expect(ledger.stock().find((s) => s.product_id === 3)!.quantity).toBe(40);
  });

  it('lists the latest dead letters with their reasons, whatever a letter holds', () => {
    letter('fastlane-finale', {
      event_id: 'x-1',
      timestamp: at,
      service: 'fastlane-finale',
      reason: 'amount: expected number',
      topic: 'spectrum-grocers/cr-views/customer-departure',
    });
    letter('inventory-intel', { event_id: 'x-2', timestamp: at, service: 'hello-helper', reason: 'r'.repeat(5000) });
    letter('inventory-intel', 'not json at all');
    const { total, byService, latest } = ledger.deadLetters(10);
    expect([total, byService]).toEqual([3, { 'fastlane-finale': 1, 'inventory-intel': 2 }]);
    expect(latest.find((l) => l.event_id === 'x-1')).toEqual({
      event_id: 'x-1',
      timestamp: at,
      service: 'fastlane-finale',
      reason: 'amount: expected number',
      topic: 'spectrum-grocers/cr-views/customer-departure',
    });
    // Filed under the service whose topic it came on, the only one the broker lets publish there.
    const long = latest.find((l) => l.event_id === 'x-2')!;
    expect([long.service, long.reason.length]).toEqual(['inventory-intel', MAX_REASON_CHARS]);
    expect(latest.find((l) => !['x-1', 'x-2'].includes(l.event_id))).toMatchObject({
      service: 'inventory-intel',
      reason: expect.stringMatching(/no reason/) as string,
      topic: '',
    });
    expect(ledger.deadLetters(1).latest).toHaveLength(1);
  });
});
