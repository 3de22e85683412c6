import { describe, expect, it } from 'vitest';
import { loadConfig } from '@spectrum-grocers/runtime';
import { ChainEnv, partEnv, portsTaken } from './config.js';
import { nodeConfig } from './nats-node.js';
import { planChain, START_ORDER, STOP_ORDER, type Part } from './plan.js';

const plan = planChain(0, '/srv/chain');
const part = (name: string): Part => [...plan.hq, ...plan.stores].find((p) => p.name === name)!;
const urls = ['mqtt://127.0.0.1:2883', 'mqtt://127.0.0.1:2884', 'mqtt://127.0.0.1:2885'];

describe('the plan of a chain on one machine', () => {
  it('listens on the fixed ports: NATS 2883–2885 (MQTT), PostgreSQL 5433, the head office 8200, logistics 8201–8202, stores at PORT_OFFSET 0, 10, 20', () => {
    expect(plan.nats.ports).toEqual([
      { mqtt: 2883, client: 4222, route: 6222, http: 8222 },
      { mqtt: 2884, client: 4223, route: 6223, http: 8223 },
      { mqtt: 2885, client: 4224, route: 6224, http: 8224 },
    ]);
    expect(plan.postgres).toEqual({
      dir: '/srv/chain/postgres',
      port: 5433,
      url: 'postgres://postgres@127.0.0.1:5433/hq',
    });
    expect(plan.hq.map((p) => [p.name, p.healthPort])).toEqual([
      ['head-office', 8200],
      ['logistics-1', 8201],
      ['logistics-2', 8202],
    ]);
    expect(plan.stores.map((s) => [s.name, s.env.PORT_OFFSET])).toEqual([
      ['fresh-frontier', '0'],
      ['harbor-view', '10'],
      ['maple-grove', '20'],
    ]);
  });

  it('checks every port it will listen on, no two alike, each named by its part', () => {
    const ports = plan.listeners.map((l) => l.port);
    expect(new Set(ports).size).toBe(ports.length);
    // 12 for NATS, PostgreSQL, 3 HQ services, and per store its broker and 7 processes.
    expect(ports).toHaveLength(12 + 1 + 3 + 3 * 8);
    expect(plan.listeners).toContainEqual(
      expect.objectContaining({ name: 'nats-2 mqtt', host: '127.0.0.1', port: 2884 }),
    );
    expect(plan.listeners).toContainEqual(expect.objectContaining({ name: 'harbor-view MQTT', port: 1893 }));
    expect(plan.listeners).toContainEqual(
      expect.objectContaining({ name: 'maple-grove uplink', host: '0.0.0.0', port: 8107 }),
    );
  });

  it('moves every port by CHAIN_PORT_OFFSET, the stores with it', () => {
    const moved = planChain(30, '/srv/chain');
    expect(moved.listeners.map((l) => l.port)).toEqual(plan.listeners.map((l) => l.port + 30));
    expect(moved.stores.map((s) => s.env.PORT_OFFSET)).toEqual(['30', '40', '50']);
  });

  it('gives each HQ replica the database, every NATS node (each replica starting at another), its replica id and port', () => {
    expect(part('logistics-1').env).toEqual({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5433/hq',
      MQTT_URL: urls[0],
      MQTT_SERVERS: urls.join(','),
      REPLICA_ID: 'logistics-1',
      HTTP_PORT: '8201',
    });
    expect(part('logistics-2').env.MQTT_SERVERS).toBe([urls[1], urls[2], urls[0]].join(','));
    expect(part('head-office').env).toMatchObject({ MQTT_URL: urls[2], REPLICA_ID: 'head-office', HTTP_PORT: '8200' });
    expect(part('logistics-1')).toMatchObject({ main: 'services/logistics/dist/main.js', reports: 'logistics' });
  });

  it('runs each store as `pnpm start` does, linked to HQ, its data under the chain, supplied by HQ instead of its simulated supplier', () => {
    expect(part('harbor-view')).toMatchObject({
      main: 'store/dist/main.js',
      flags: [],
      reports: 'store',
      healthPort: 8095,
    });
    expect(part('harbor-view').env).toEqual({
      STORE: 'harbor-view',
      PORT_OFFSET: '10',
      DATA_DIR: '/srv/chain/harbor-view',
      HQ_URL: [urls[1], urls[2], urls[0]].join(','),
      RESTOCK_DELAY_S: 'off',
    });
  });

  it("passes the environment on, less what the chain decides, with each part's own settings over its defaults", () => {
    const inherited = {
      LOG_LEVEL: 'debug',
      MQTT_URL: 'mqtt://elsewhere',
      DATA_DIR: '/tmp/x',
      LOGISTICS_DELIVERY_LEAD_S: '5',
    };
    const logistics = partEnv(part('logistics-2'), inherited, { LOG_FORMAT: 'json' });
    expect(logistics).toMatchObject({
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      DELIVERY_LEAD_S: '5',
      MQTT_URL: urls[1],
    });
    expect(logistics.DATA_DIR).toBeUndefined();
    expect(partEnv(part('logistics-1'), {}, {}).DELIVERY_LEAD_S).toBe('20');
    const store = partEnv(part('maple-grove'), { ...inherited, MAPLE_GROVE_SIMULATE: 'false', SIMULATE: 'true' }, {});
    expect(store).toMatchObject({ SIMULATE: 'false', DATA_DIR: '/srv/chain/maple-grove' });
    expect(store.MQTT_URL).toBeUndefined();
  });

  it('starts NATS, then PostgreSQL, then the HQ services, then the stores; stops the stores first and the servers last', () => {
    expect(START_ORDER).toEqual(['nats', 'postgres', 'hq', 'stores']);
    expect(STOP_ORDER).toEqual([['stores'], ['hq'], ['nats', 'postgres']]);
  });

  it("names each part's page: the head office, the orders, each store's control room and exit gate", () => {
    expect(plan.pages).toEqual([
      { what: 'head office', url: 'http://localhost:8200/' },
      { what: 'orders', url: 'http://localhost:8201/orders' },
      { what: 'fresh-frontier control room', url: 'http://localhost:8086/' },
      { what: 'fresh-frontier exit gate', url: 'POST http://localhost:8082/scans' },
      { what: 'harbor-view control room', url: 'http://localhost:8096/' },
      { what: 'harbor-view exit gate', url: 'POST http://localhost:8092/scans' },
      { what: 'maple-grove control room', url: 'http://localhost:8106/' },
      { what: 'maple-grove exit gate', url: 'POST http://localhost:8102/scans' },
    ]);
  });
});

describe("the chain's settings and messages", () => {
  const load = (env: Record<string, string>) => loadConfig('chain', { options: ChainEnv, env, dotenv: false });

  it('keeps its data in data/chain and its ports where they are unless told otherwise', () => {
    expect(load({}).options).toEqual({ CHAIN_PORT_OFFSET: 0, CHAIN_DATA_DIR: 'data/chain' });
  });

  it('refuses a CHAIN_PORT_OFFSET that would make two stores share ports', () => {
    expect(() => load({ CHAIN_PORT_OFFSET: '15' })).toThrow(/CHAIN_PORT_OFFSET: must be a multiple of 10/);
  });

  it('names a taken port and how to run beside it, in one line', () => {
    const [listener] = plan.listeners;
    const err = portsTaken([listener!], 'CHAIN_PORT_OFFSET=30');
    expect(err.code).toBe('PORT_IN_USE');
    expect(err.message).toBe(
      'port 2883 (nats-1 mqtt) is already in use (another chain, or a pnpm start?): stop it, or run this chain beside it with CHAIN_PORT_OFFSET=30',
    );
    expect(portsTaken(plan.listeners.slice(0, 6), '…').message).toMatch(
      /^ports 2883 \(nats-1 mqtt\), 4222 .* and 2 more are/,
    );
  });

  it("configures each NATS node for MQTT on loopback with ack_wait 5s, the session failover's bound", () => {
    const config = nodeConfig('nats-1', plan.nats.ports[0]!, [6222, 6223, 6224], '/srv/chain/nats/nats-1');
    expect(config).toContain(
      'mqtt { listen: 127.0.0.1:2883, stream_replicas: 3, consumer_replicas: 3, ack_wait: "5s" }',
    );
    expect(config).toContain(
      'routes: [nats-route://127.0.0.1:6222, nats-route://127.0.0.1:6223, nats-route://127.0.0.1:6224]',
    );
    expect(config).toContain('jetstream { store_dir: "/srv/chain/nats/nats-1" }');
  });
});
