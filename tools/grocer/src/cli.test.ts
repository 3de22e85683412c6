import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveEventId, eventTopic, storeFilter } from '@spectrum-grocers/contract';
import {
  collect,
  freePort,
  skipWithoutMosquitto,
  spawnService,
  startAedes,
  startMosquitto,
  tempDir,
  TEST_SERVICE_ENV,
  waitUntil,
  type Collector,
  type EmbeddedTestBroker,
  type Mosquitto,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';
import { run } from './cli.js';

const root = { chain: 'spectrum-grocers', store: 'grocer-test' };

/** Run grocer in this process; what it printed and its exit code. */
async function grocer(argv: string[], env: Record<string, string> = {}, interrupted = new Promise<void>(() => {})) {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { STORE: root.store, DATA_DIR: '/nonexistent', ...env },
    interrupted,
  });
  return { code, out, err };
}

describe('grocer without a broker', () => {
  it('has --help on every command', async () => {
    for (const cmd of ['tail', 'publish', 'load', 'trace', 'deliver']) {
      const r = await grocer([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.out).toContain(`Usage: grocer ${cmd}`);
    }
    expect((await grocer(['--help'])).out).toContain('Commands:');
  });

  it('says what is wrong in one line, with exit code 2 for a bad call and 1 for a failure', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['frobnicate'], 2, /^grocer: unknown command frobnicate/],
      [['publish'], 2, /publish needs an event/],
      [['publish', 'nope'], 2, /unknown event nope/],
      [['publish', 'customer-departure', '--customer_id'], 2, /--customer_id needs a value/],
      [['publish', 'customer-departure', '--customer_id', '-3', '--product_ids', '1'], 1, /customer_id/],
      [['publish', 'customer-arrival', '--customer_id', '1', '--url', 'http://x'], 2, /not a broker URL/],
      [['load', 'departures', '--rate', '0'], 2, /--rate must be a positive number/],
      [['load', 'sideways'], 2, /load what\?/],
      [['tail', '--count', 'x'], 2, /--count must be a positive integer/],
      [['tail', 'no-such-event'], 2, /unknown event no-such-event/],
      [['tail', '--bogus'], 2, /bogus/],
      [['trace'], 2, /trace needs one event_id/],
      [['trace', 'e-1', '--control-room', 'http://127.0.0.1:9'], 1, /cannot reach the control room/],
      [['publish', 'customer-departure', '--customer_id', '4', '--product_ids', '[1,'], 1, /refused by its schema/],
      [['publish', 'customer-departure', '--customer_id', '4', 'extra'], 2, /unexpected extra/],
      [['trace', 'e-1', '--bogus'], 2, /bogus/],
      [['deliver'], 2, /^grocer deliver: deliver needs a product and a quantity/],
      [['deliver', '3'], 2, /deliver needs a product and a quantity/],
      [['deliver', '0', '5'], 2, /product_id must be a whole number above 0, not 0/],
      [['deliver', '3', '2.5'], 2, /quantity must be a whole number above 0, not 2\.5/],
      [['deliver', '3', '5', '--delivery-id', ''], 2, /--delivery-id must not be empty/],
      [['deliver', '3', '5', '--bogus'], 2, /bogus/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await grocer(argv);
      expect(r.code, argv.join(' ')).toBe(code);
      expect(r.err, argv.join(' ')).toMatch(message);
      expect(r.err.trim().split('\n'), argv.join(' ')).toHaveLength(1);
    }
    const refused = await grocer(['publish', 'customer-arrival', '--customer_id', '1', '--url', 'mqtt://127.0.0.1:9']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(
      /^grocer publish: cannot connect to mqtt:\/\/127\.0\.0\.1:9: .*ECONNREFUSED.*; is the store running\?\n$/,
    );
    const port = await freePort();
    const unreachable = await grocer(['deliver', '3', '5', '--url', `http://127.0.0.1:${port}`]);
    expect(unreachable).toMatchObject({ code: 1, out: '' });
    expect(unreachable.err).toMatch(
      new RegExp(
        `^grocer deliver: cannot reach inventory-intel at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); ` +
          'is the store running\\? set INVENTORY_INTEL_URL; to try again without delivering twice, add --delivery-id [0-9a-f-]{36}\\n$',
      ),
    );
    const offset = await grocer(['tail'], { PORT_OFFSET: '15' });
    expect(offset).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^grocer tail: PORT_OFFSET must be a multiple of 10 .*, not 15\n$/),
    });
  });
});

describe.skipIf(skipWithoutMosquitto)('grocer against Mosquitto', () => {
  let broker: Mosquitto;
  let watcher: Collector;
  let env: Record<string, string>;
  const data = tempDir('ff-grocer-');
  let controlRoom: ServiceProcess;

  beforeAll(async () => {
    broker = await startMosquitto();
    env = { MQTT_URL: broker.url };
    watcher = await collect(broker.url, storeFilter(root));
    controlRoom = spawnService('control-room', {
      MQTT_URL: broker.url,
      STORE: root.store,
      DATA_DIR: data.path,
      ...TEST_SERVICE_ENV,
    });
    await controlRoom.waitForLog('"msg":"subscribed"');
  });
  afterAll(async () => {
    await controlRoom?.stop('SIGTERM');
    await watcher?.close();
    await broker?.dispose();
    data.remove();
  });

  it('publishes a valid event with its fields typed, and prints its event_id', async () => {
    const r = await grocer(['publish', 'customer-departure', '--customer_id', '4', '--product_ids', '1,2,3'], env);
    expect(r).toMatchObject({ code: 0, err: '' });
    const id = r.out.trim();
    const [m] = await waitUntil(
      () => watcher.on(eventTopic(root, 'customer-departure')).filter((x) => x.json().event_id === id),
      'the departure',
    ).then((ms) => (ms.length ? ms : Promise.reject(new Error('not received'))));
    expect(m!.json()).toMatchObject({ customer_id: 4, product_ids: [1, 2, 3] });
  });

  it('tails events, marking each valid or refused by its schema', async () => {
    const lines = grocer(['tail', 'customer-arrival', '-n', '2', '--json'], env);
    await new Promise((r) => setTimeout(r, 300));
    const topic = eventTopic(root, 'customer-arrival');
    await watcher.publish(topic, { timestamp: new Date().toISOString(), customer_id: 3 });
    await watcher.publish(topic, '{"customer_id": "three"}');
    const r = await lines;
    expect(r.code).toBe(0);
    const [good, bad] = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { topic: string; valid: boolean; reason?: string });
    expect(good).toMatchObject({ topic, valid: true });
    expect(bad).toMatchObject({ topic, valid: false });
    expect(bad!.reason).toMatch(/customer_id/);
  });

  it('loads departures at a steady rate and says how many the broker acknowledged', async () => {
    const before = watcher.on(eventTopic(root, 'customer-departure')).length;
    const r = await grocer(['load', 'departures', '--rate', '400', '--count', '200'], env);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^customer-departure: 200 sent, 200 acknowledged, 0 failed in [\d.]+ s/);
    await waitUntil(() => watcher.on(eventTopic(root, 'customer-departure')).length - before >= 200, '200 departures');
  });

  it('traces a departure to its payment through the control room', async () => {
    const departure = await grocer(['publish', 'customer-departure', '--customer_id', '5', '--product_ids', '7'], env);
    const id = departure.out.trim();
    const payment = deriveEventId('payment-due', id);
    await watcher.publish(eventTopic(root, 'payment-due'), {
      event_id: payment,
      causation_id: id,
      timestamp: new Date().toISOString(),
      customer_id: 5,
      amount: 1.29,
      amount_cents: 129,
    });
    const controlRoomUrl = `http://127.0.0.1:${await controlRoom.httpPort()}`;
    const r = await waitUntil(async () => {
      const t = await grocer(['trace', payment, '--control-room', controlRoomUrl]);
      return t.code === 0 && t.out.includes('payment-due') ? t : undefined;
    }, 'the trace');
    const [first, second] = r.out.trim().split('\n');
    expect(first).toMatch(new RegExp(`^customer-departure  ${id} .* customer 5, 1 item$`));
    expect(second).toMatch(new RegExp(`^└─ payment-due  ${payment} .* customer 5 owes \\$1\\.29  ← asked$`));
    const missing = await grocer(['trace', 'no-such-id', '--control-room', controlRoomUrl]);
    expect(missing).toMatchObject({ code: 1, err: "grocer trace: no event no-such-id in the control room's store\n" });
  });

  it('asks for --event when an arrival and a departure share an id, and traces the one named', async () => {
    const id = `shared-${Date.now()}`;
    const timestamp = new Date().toISOString();
    await watcher.publish(eventTopic(root, 'customer-arrival'), { event_id: id, timestamp, customer_id: 6 });
    await watcher.publish(eventTopic(root, 'customer-departure'), {
      event_id: id,
      timestamp,
      customer_id: 6,
      product_ids: [2],
    });
    const controlRoomUrl = `http://127.0.0.1:${await controlRoom.httpPort()}`;
    const ambiguous = await waitUntil(async () => {
      const t = await grocer(['trace', id, '--control-room', controlRoomUrl]);
      return t.code === 1 && /customer-arrival/.test(t.err) && /customer-departure/.test(t.err) ? t : undefined;
    }, 'both events in the control room');
    expect(ambiguous.err).toMatch(/^grocer trace: .*event/);
    const departure = await grocer(['trace', id, '--event', 'customer-departure', '--control-room', controlRoomUrl]);
    expect(departure.code).toBe(0);
    expect(departure.out).toMatch(new RegExp(`^customer-departure  ${id} .*← asked$`, 'm'));
    expect(departure.out).not.toContain('customer-arrival');
  });
});

// The head office's side of a chain: a broker carrying every store's topics (here an aedes).
describe('grocer at the head office (--hq, --store)', () => {
  let hq: EmbeddedTestBroker;
  beforeAll(async () => {
    hq = await startAedes();
  });
  afterAll(() => hq?.close());

  it("tails every store's events at HQ, and one store's with --store", async () => {
    const shops = await collect(hq.url, []);
    try {
      const everyStore = grocer(['tail', '--hq', hq.url, '--json', '--count', '2']);
      const oneStore = grocer(['tail', '--hq', hq.url, '--store', 'south', '--json', '--count', '1']);
      await new Promise((r) => setTimeout(r, 300));
      const alert = (store: string) => ({
        event_id: `alert-${store}`,
        timestamp: new Date().toISOString(),
        item_id: 3,
        quantity: 2,
      });
      await shops.publish(eventTopic({ chain: root.chain, store: 'north' }, 'restock-alert'), alert('north'));
      await shops.publish(eventTopic({ chain: root.chain, store: 'south' }, 'restock-alert'), alert('south'));
      const all = await everyStore;
      expect(all.code).toBe(0);
      expect(
        all.out
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { topic: string }).topic),
      ).toEqual(['spectrum-grocers/north/restock-alert', 'spectrum-grocers/south/restock-alert']);
      const one = await oneStore;
      expect((JSON.parse(one.out) as { topic: string }).topic).toBe('spectrum-grocers/south/restock-alert');
    } finally {
      await shops.close();
    }
  });

  it('publishes a price change at HQ for one store, or for every store with --store all-stores', async () => {
    const stores = await collect(hq.url, ['spectrum-grocers/+/price-change']);
    try {
      const one = await grocer([
        'publish',
        'price-change',
        '--hq',
        hq.url,
        '--store',
        'north',
        '--product_id',
        '3',
        '--price_cents',
        '199',
      ]);
      const all = await grocer([
        'publish',
        'price-change',
        '--hq',
        hq.url,
        '--store',
        'all-stores',
        '--product_id',
        '1',
        '--price_cents',
        '99',
      ]);
      expect([one.code, all.code]).toEqual([0, 0]);
      await stores.waitFor('spectrum-grocers/all-stores/price-change');
      expect(stores.on('spectrum-grocers/north/price-change').map((m) => m.json())).toEqual([
        expect.objectContaining({ event_id: one.out.trim(), product_id: 3, price_cents: 199 }),
      ]);
      expect(stores.on('spectrum-grocers/all-stores/price-change')[0]!.json()).toMatchObject({
        product_id: 1,
        price_cents: 99,
      });
      const bad = await grocer(['tail', '--hq', hq.url, '--store', 'a/b']);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--store must be one topic level/);
    } finally {
      await stores.close();
    }
  });
});
