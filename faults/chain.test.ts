import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
import { mosquittoBridge } from '@spectrum-grocers/broker';
import {
  collect,
  holdsIntake,
  hqReplicaEnv,
  skipWithoutMosquitto,
  skipWithoutNats,
  skipWithoutPostgres,
  spawnService,
  startNatsCluster,
  startPostgres,
  startTcpProxy,
  waitUntil,
  type Collector,
  type NatsCluster,
  type Postgres,
  type ServiceProcess,
  type TcpProxy,
} from '@spectrum-grocers/testkit';
import { startFaultStore, type FaultStore } from './store.js';

const chain = 'spectrum-grocers';
const STORES = ['north', 'south', 'east'] as const;
/** Departures per second at each store's exit gate. */
const RATE = 8;
const RUN_MS = Number(process.env.CHAIN_RUN_S ?? 60) * 1000;
const CUT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Store {
  readonly name: string;
  readonly shop: FaultStore;
  /** Its link to each HQ node: cut them all and the store is on its own. */
  readonly links: TcpProxy[];
}

/** What a store's own databases say it did: its bills, its restock alerts, the deliveries it took. */
function storeRecords(s: Store) {
  const open = (service: string) => new Database(join(s.shop.dataDir, `${service}.db`), { readonly: true });
  const bills = open('fastlane-finale');
  const inventory = open('inventory-intel');
  try {
    return {
      payments: bills
        .prepare<[], { id: string }>('SELECT payment_event_id AS id FROM bills')
        .all()
        .map((r) => r.id),
      alerts: inventory
        .prepare<[string], { id: string }>('SELECT event_id AS id FROM outbox WHERE topic = ?')
        .all(eventTopic({ chain, store: s.name }, 'restock-alert'))
        .map((r) => r.id),
      deliveries: inventory
        .prepare<[], { id: string }>('SELECT delivery_id AS id FROM deliveries')
        .all()
        .map((r) => r.id),
    };
  } finally {
    bills.close();
    inventory.close();
  }
}

// Three stores on Mosquitto, each bridged to a 3-node NATS cluster through links a test can cut,
// and the head office's services in replicas on PostgreSQL: the chain under every fault at once.
describe.skipIf(skipWithoutMosquitto || skipWithoutNats || skipWithoutPostgres)('the chain under faults', () => {
  let hq: NatsCluster;
  let db: Postgres;
  let url: string;
  let auditor: Collector;
  const auditorLog: string[] = [];
  const stores: Store[] = [];
  /** The head office's replicas (logistics-1, head-office-2 …), each a process. */
  const replicas = new Map<string, ServiceProcess>();

  const ports = new Map<string, number>();
  async function startHq(service: 'logistics' | 'head-office', id: string): Promise<void> {
    const proc = spawnService(service, { ...hqReplicaEnv(hq, url, chain, 250), REPLICA_ID: id, DELIVERY_LEAD_S: '1' });
    replicas.set(id, proc);
    ports.set(id, await proc.httpPort(30_000));
  }
  /** Whether a replica of `service` holds its intake: its session exists, and what stores send waits in it. */
  const intakeHeld = (service: string) => async () => {
    for (const [id, port] of ports) if (id.startsWith(service) && (await holdsIntake(port))) return true;
    return false;
  };
  const query = async <R extends object>(sql: string): Promise<R[]> => {
    const c = await db.connect(url);
    try {
      return (await c.query<R>(sql)).rows;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    [hq, db] = await Promise.all([startNatsCluster(), startPostgres()]);
    url = await db.createDatabase('hq');
    const servers = hq.nodes.map((n) => ({ host: '127.0.0.1', port: n.mqttPort }));
    // HQ's own record of what came up, in a persistent session that outlives a node.
    auditor = await collect(hq.mqttUrls[1]!, [`${chain}/+/payment-due`], {
      protocolVersion: 4,
      clean: false,
      clientId: `chain-auditor-${process.pid}`,
      servers,
    });
    auditor.client.on('connect', (ack) =>
      auditorLog.push(
        `${new Date().toISOString().slice(11, 23)} connected to ${auditor.client.options.port} sp=${ack.sessionPresent}`,
      ),
    );
    auditor.client.on('close', () => auditorLog.push(`${new Date().toISOString().slice(11, 23)} closed`));
    await Promise.all([
      startHq('logistics', 'logistics-1'),
      startHq('logistics', 'logistics-2'),
      startHq('head-office', 'head-office-1'),
      startHq('head-office', 'head-office-2'),
    ]);
    // The intakes' sessions must exist before the stores send: MQTT drops what nobody is subscribed to.
    for (const service of ['logistics', 'head-office']) {
      await waitUntil(intakeHeld(service), `a ${service} replica to hold its intake`, 30_000);
    }
    for (const name of STORES) {
      const root = { chain, store: name };
      const links = await Promise.all(hq.nodes.map((n) => startTcpProxy(n.mqttPort)));
      const bridge = mosquittoBridge({ root, addresses: links.map((l) => `127.0.0.1:${l.port}`) });
      const shop = await startFaultStore({}, { root, extraConfig: bridge });
      stores.push({ name, shop, links });
      for (const service of ['inventory-intel', 'fastlane-finale', 'gateexit-guardian'] as const) {
        await shop.start(service);
      }
    }
    await waitUntil(() => stores.every((s) => s.links.some((l) => l.connections > 0)), 'every bridge up', 30_000);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([...replicas.values()].map((p) => p.stop('SIGKILL')));
    for (const s of stores) {
      await s.shop.dispose();
      await Promise.all(s.links.map((l) => l.close()));
    }
    await auditor?.close();
    await hq?.dispose();
    await db?.dispose();
  });

  it(
    'bills every departure once at HQ, orders and delivers once per restock alert, and brings every price change to its stores, ' +
      'through a NATS node killed, a store cut off for 30 s, a store broker killed and an HQ replica killed',
    async () => {
      const started = Date.now();
      const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
      const faults: string[] = [];
      const note = (what: string) => faults.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
      let loading = true;
      let scans = 0;
      // A steady load at every store's exit gate: eggs twice (they run low fast) and one more product.
      const load = stores.map(async (s) => {
        const gate = s.shop.httpUrl('gateexit-guardian', '/scans');
        for (let i = 0; loading; i++) {
          const body = { customer_id: 1 + (i % 10), product_ids: [3, 3, 1 + (i % 20)] };
          const res = await fetch(gate, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          if (res.status === 202) scans++;
          await sleep(1000 / RATE);
        }
      });
      // Price changes go through the head office, as an operator's would.
      const decide = async (body: object): Promise<string> => {
        const res = await fetch(`http://127.0.0.1:${ports.get('head-office-2')}/prices`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status).toBe(202);
        return ((await res.json()) as { event_id: string }).event_id;
      };
      const south = stores.find((s) => s.name === 'south')!;
      const east = stores.find((s) => s.name === 'east')!;

      await at(5_000);
      // Kept down for the run: with NATS 2.9.10 a node restarted under load was seen to hand a
      // session back empty (sessionPresent false) and lose a message (README, The head office).
      await hq.nodes[0]!.kill('SIGKILL');
      note('NATS node 1 killed (kill -9), kept down');
      await at(8_000);
      for (const l of south.links) l.cut();
      note('south cut off from HQ');
      await at(12_000);
      const chainPrice = await decide({ product_id: 1, price_cents: 99 });
      const northPrice = await decide({ product_id: 2, price_cents: 77, store: 'north' });
      note('price changes decided at HQ: product 1 for the chain, product 2 for north');
      await at(18_000);
      await east.shop.broker.stop('SIGKILL');
      await east.shop.broker.restart();
      note("east's Mosquitto killed (kill -9) and started again");
      await at(22_000);
      await replicas.get('logistics-1')!.stop('SIGKILL');
      note('logistics replica 1 killed (kill -9)');
      await at(8_000 + CUT_MS);
      for (const l of south.links) l.restore();
      note('south linked again');
      await at(Math.max(RUN_MS, 8_000 + CUT_MS + 5_000));
      loading = false;
      await Promise.all(load);
      note(`load stopped: ${scans} departures`);

      // Everything settles: HQ has every bill, and every alert was ordered and delivered.
      const hqPayments = () => new Set(auditor.messages.map((m) => m.json<{ event_id: string }>().event_id));
      const orders = () => query<{ store: string; id: string }>('SELECT store, alert_event_id AS id FROM orders');
      const ledger = () => query<{ store: string; id: string }>('SELECT store, event_id AS id FROM ledger_payments');
      const settled = async () => {
        const [all, booked] = await Promise.all([orders(), ledger()]);
        return stores.every((s) => {
          const own = storeRecords(s);
          const ordered = all.filter((o) => o.store === s.name);
          return (
            booked.filter((b) => b.store === s.name).length === own.payments.length &&
            ordered.length === own.alerts.length &&
            own.deliveries.length === ordered.length
          );
        });
      };
      await waitUntil(settled, 'the chain to settle', 120_000).catch(() => undefined);
      note('settled');

      const [all, booked] = await Promise.all([orders(), ledger()]);
      const report = stores.map((s) => {
        const own = storeRecords(s);
        const ordered = all.filter((o) => o.store === s.name).map((o) => o.id);
        const ids = new Set(ordered);
        const inLedger = booked.filter((b) => b.store === s.name).map((b) => b.id);
        const bills = new Set(own.payments);
        return {
          store: s.name,
          payments: own.payments.length,
          missingAtHq: own.payments.filter((id) => !hqPayments().has(id)).length,
          inLedger: inLedger.length,
          notInLedger: own.payments.filter((id) => !inLedger.includes(id)).length,
          notBilledHere: inLedger.filter((id) => !bills.has(id)).length,
          alerts: own.alerts.length,
          orders: ordered.length,
          alertsNotOrdered: own.alerts.filter((id) => !ids.has(id)).length,
          ordersTwice: ordered.length - ids.size,
          deliveries: own.deliveries.length,
        };
      });
      const lost = stores.flatMap((s) => {
        const inLedger = new Set(booked.filter((b) => b.store === s.name).map((b) => b.id));
        return storeRecords(s).payments.filter((id) => !inLedger.has(id) || !hqPayments().has(id));
      });
      if (lost.length > 0) process.stdout.write(`auditor: ${auditorLog.join('; ')}\n`);
      if (lost.length > 0) {
        const rows = await query<object>(
          `SELECT service, store, topic, event_id, received_at, done_at, outcome, reason FROM inbox
            WHERE event_id IN (${lost.map((id) => `'${id.replace(/'/g, "''")}'`).join(', ')})`,
        );
        process.stdout.write(`not in the ledger: ${JSON.stringify(lost)}\ntheir inbox rows: ${JSON.stringify(rows)}\n`);
        for (const s of stores) {
          const bills = new Database(join(s.shop.dataDir, 'fastlane-finale.db'), { readonly: true });
          for (const id of lost) {
            const row = bills
              .prepare<[string], { created_at: string }>('SELECT created_at FROM bills WHERE payment_event_id = ?')
              .get(id);
            if (row)
              process.stdout.write(
                `${s.name} billed ${id} at ${((Date.parse(row.created_at) - started) / 1000).toFixed(1)} s\n`,
              );
          }
          bills.close();
        }
        for (const [id, proc] of replicas) {
          const lines = proc
            .output()
            .split('\n')
            .filter((l) => /connected to broker|subscribed again|took the intake|"level":(40|50)/.test(l));
          process.stdout.write(`${id}:\n  ${lines.map((l) => l.slice(0, 400)).join('\n  ')}\n`);
        }
      }
      process.stdout.write(`chain faults:\n  ${faults.join('\n  ')}\n${JSON.stringify(report, null, 1)}\n`);
      for (const r of report) {
        expect(r.payments).toBeGreaterThan(RATE * 10);
        expect(r.alerts).toBeGreaterThan(0);
        // The ledger is HQ's record; missingAtHq, what one plain session at HQ missed, is reported only.
        expect(r).toMatchObject({
          inLedger: r.payments,
          notInLedger: 0,
          notBilledHere: 0,
          alertsNotOrdered: 0,
          ordersTwice: 0,
          orders: r.alerts,
          deliveries: r.alerts,
        });
      }
      // Each delivery raised its store's stock once: one row per delivery id (its key), each an order of that store.
      for (const s of stores) {
        const own = storeRecords(s);
        const ordered = new Set(all.filter((o) => o.store === s.name).map((o) => o.id));
        expect(own.deliveries.length).toBe(new Set(own.deliveries).size);
        expect(own.deliveries.length).toBe(ordered.size);
      }
      // The prices reached their stores, south after its link came back.
      for (const s of stores) {
        const { prices: list } = (await (await fetch(s.shop.httpUrl('fastlane-finale', '/prices'))).json()) as {
          prices: { product_id: number; price_cents: number; change_id?: string }[];
        };
        const of = (id: number) => list.find((p) => p.product_id === id);
        expect(of(1)).toMatchObject({ price_cents: 99, change_id: chainPrice });
        if (s.name === 'north') expect(of(2)).toMatchObject({ price_cents: 77, change_id: northPrice });
        else expect(of(2)?.change_id).toBeUndefined();
      }
    },
    RUN_MS + 300_000,
  );
});
