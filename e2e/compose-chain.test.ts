import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventTopic, HQ_SERVICES, isHqService } from '@spectrum-grocers/contract';
import { HQ_DB_PASSWORD, makeCredentials, makeHqSecrets, mosquittoBridge } from '@spectrum-grocers/broker';
import { composeFiles, composeStoreBridge } from '@spectrum-grocers/chain';
import {
  collect,
  repoPath,
  skipWithoutMosquitto,
  skipWithoutNats,
  skipWithoutPostgres,
  spawnService,
  startMosquitto,
  startNatsCluster,
  startPostgres,
  waitUntil,
  type Collector,
  type Mosquitto,
  type NatsCluster,
  type Postgres,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';
import { interpolate, readCompose, type ComposeService } from './compose-file.js';
import { getJson } from './harness.js';

const store = readCompose('docker-compose.yaml');
const chain = readCompose('docker-compose.chain.yaml');
const BROKER = 'message-mediator-broker';
const HQ_DB = 'hq-db';
const HQ_NETWORK = 'hq-network';
const NATS = Object.keys(chain.services).filter((s) => /^nats-\d+$/.test(s));
/** The head office's replicas: every service built from the Dockerfile as one of HQ's. */
const REPLICAS = Object.keys(chain.services).filter((s) => isHqService(chain.services[s]!.build?.args?.SERVICE));
const serviceOf = (replica: string) => chain.services[replica]!.build!.args!.SERVICE!;
const NEEDS_SETUP = 'run pnpm broker:setup first';
const CONF_D = '/mosquitto/config/conf.d';

/** The host file a service mounts at `target`, from the repository's root. */
const mountAt = (svc: ComposeService, target: string) =>
  svc.volumes!.find((v) => v.split(':')[1] === target)?.split(':')[0];
/** A service as compose runs it from both files: maps merged, a volume replaced by one at its target, networks joined. */
function merged(name: string): ComposeService {
  const [base, over] = [store.services[name]!, chain.services[name] ?? {}];
  const overTargets = new Set((over.volumes ?? []).map((v) => v.split(':')[1]));
  return {
    ...base,
    ...over,
    environment: { ...base.environment, ...over.environment },
    volumes: [...(base.volumes ?? []).filter((v) => !overTargets.has(v.split(':')[1])), ...(over.volumes ?? [])],
    networks: [...new Set([...(base.networks ?? []), ...(over.networks ?? [])])],
  };
}
/** A NATS node's MQTT port inside the network, from the config its service mounts. */
const natsMqttPort = (node: string) => {
  const conf = readFileSync(repoPath(mountAt(chain.services[node]!, '/etc/nats/nats-server.conf')!), 'utf8');
  return Number(/^mqtt \{ listen: 0\.0\.0\.0:(\d+),/m.exec(conf)?.[1]);
};
const storeRoot = {
  chain: store.services['fastlane-finale']!.environment!.CHAIN!,
  store: store.services['fastlane-finale']!.environment!.STORE!,
};
const composeHealthcheck = store.services['fastlane-finale']!.healthcheck!.test;

describe('docker-compose.chain.yaml, over the store of docker-compose.yaml', () => {
  it("adds HQ's NATS cluster, PostgreSQL and services on a network of their own, and changes two of the store's", () => {
    expect(NATS).toEqual(['nats-1', 'nats-2', 'nats-3']);
    expect([...REPLICAS].sort()).toEqual(['head-office', 'logistics-1', 'logistics-2']);
    expect([...new Set(REPLICAS.map(serviceOf))].sort()).toEqual([...HQ_SERVICES].sort());
    expect(Object.keys(chain.services).sort()).toEqual([...NATS, HQ_DB, ...REPLICAS, BROKER, 'inventory-intel'].sort());
    for (const s of [...NATS, HQ_DB, ...REPLICAS]) {
      expect(store.services[s], s).toBeUndefined();
      expect(chain.services[s]!.networks, s).toEqual([HQ_NETWORK]);
      expect(chain.services[s]!.restart, s).toBe('unless-stopped');
    }
    expect(chain.networks[HQ_NETWORK]?.name).toBe('spectrum-grocers-hq-network');
    // Only the broker joins HQ's network: the store's services reach HQ through its bridge alone.
    expect(Object.keys(chain.services[BROKER]!).sort()).toEqual(['depends_on', 'networks', 'volumes']);
    expect(merged(BROKER).networks).toEqual(['fresh-frontier-network', HQ_NETWORK]);
    expect(Object.keys(chain.services['inventory-intel']!)).toEqual(['environment']);
  });

  it('runs each NATS node from the official image with its generated config and a volume for its store, and no shell healthcheck', () => {
    const files = composeFiles();
    for (const node of NATS) {
      const svc = chain.services[node]!;
      expect(svc.image, node).toBe('nats:2.10');
      expect(svc.command, node).toEqual(['--config', '/etc/nats/nats-server.conf']);
      const conf = mountAt(svc, '/etc/nats/nats-server.conf')!;
      expect(svc.volumes, node).toContain(`${conf}:/etc/nats/nats-server.conf:ro`);
      const text = readFileSync(repoPath(conf), 'utf8');
      expect(text, `${conf} (regenerate with pnpm chain:compose)`).toBe(files[conf.replace(/^\.\//, '')]);
      expect(text, node).toMatch(new RegExp(`^server_name: ${node}$`, 'm'));
      // Its JetStream store lives in its named volume.
      expect(svc.volumes, node).toContain(`${node}-data:/data`);
      expect(chain.volumes).toHaveProperty(`${node}-data`);
      expect(text, node).toContain('jetstream { store_dir: "/data/jetstream" }');
      // FROM scratch: no shell, so no healthcheck; HQ's services wait for it by retrying.
      expect(svc.healthcheck, node).toBeUndefined();
      for (const p of svc.ports ?? []) expect(p, node).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it("keeps HQ's state in PostgreSQL 16, its password from .env, healthy once it answers over TCP", () => {
    const db = chain.services[HQ_DB]!;
    expect(db.image).toBe('postgres:16');
    expect(db.environment).toEqual({
      POSTGRES_USER: 'hq',
      POSTGRES_DB: 'hq',
      POSTGRES_PASSWORD: `\${${HQ_DB_PASSWORD}:?${NEEDS_SETUP}}`,
    });
    expect(db.healthcheck!.test).toEqual(['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', 'hq', '-d', 'hq']);
    expect(db.volumes).toEqual([`${HQ_DB}-data:/var/lib/postgresql/data`]);
    expect(chain.volumes).toHaveProperty(`${HQ_DB}-data`);
    for (const p of db.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it("builds each HQ replica from the one Dockerfile and gives it HQ's database, every NATS node and a name of its own", () => {
    const { POSTGRES_USER: user, POSTGRES_DB: database } = chain.services[HQ_DB]!.environment!;
    const nodes = NATS.map((n) => `mqtt://${n}:${natsMqttPort(n)}`);
    for (const replica of REPLICAS) {
      const svc = chain.services[replica]!;
      const service = serviceOf(replica);
      const port = svc.build!.args!.HTTP_PORT!;
      expect(svc.build, replica).toEqual({
        context: '.',
        dockerfile: 'Dockerfile',
        args: { SERVICE: service, HTTP_PORT: port },
      });
      expect(svc.image, replica).toBe(`spectrum-grocers/${service}:0.1.0`);
      const env = svc.environment!;
      expect(env.DATABASE_URL, replica).toBe(
        `postgres://${user}:\${${HQ_DB_PASSWORD}:?${NEEDS_SETUP}}@${HQ_DB}:5432/${database}`,
      );
      // Every node, starting from a different one per replica; MQTT_URL is the first.
      const servers = env.MQTT_SERVERS!.split(',');
      expect([...servers].sort(), replica).toEqual(nodes);
      expect(env.MQTT_URL, replica).toBe(servers[0]);
      expect(env.REPLICA_ID, replica).toBe(replica);
      expect(env.CHAIN, replica).toBe(storeRoot.chain);
      expect(env.HTTP_PORT, replica).toBe(port);
      for (const published of svc.ports ?? []) expect(published.split(':').at(-1), replica).toBe(port);
      expect('DELIVERY_LEAD_S' in env, replica).toBe(service === 'logistics');
      // NATS has no healthcheck: a replica starts once it runs and connects when it answers.
      expect(svc.depends_on, replica).toEqual({
        [HQ_DB]: { condition: 'service_healthy' },
        ...Object.fromEntries(NATS.map((n) => [n, { condition: 'service_started' }])),
      });
      expect(svc.healthcheck!.test, replica).toEqual(composeHealthcheck);
      expect(svc.stop_grace_period, replica).toBe('15s');
    }
    expect(new Set(REPLICAS.map((r) => chain.services[r]!.environment!.MQTT_URL)).size).toBe(REPLICAS.length);
    expect(chain.services['head-office']!.ports).toEqual(['8200:8200']);
  });

  it("bridges the store's broker to every NATS node with the generator's file, no topic both ways", () => {
    const broker = merged(BROKER);
    const mounted = broker.volumes!.filter((v) => v.split(':')[1] === CONF_D);
    expect(mounted).toEqual([`./chain/compose/bridge:${CONF_D}:ro`]);
    // The store's other mounts stay as they were.
    expect(broker.volumes).toEqual(
      expect.arrayContaining(store.services[BROKER]!.volumes!.filter((v) => !v.includes(CONF_D))),
    );
    const bridge = readFileSync(repoPath('chain/compose/bridge/bridge.conf'), 'utf8');
    expect(bridge, 'chain/compose/bridge/bridge.conf (regenerate with pnpm chain:compose)').toBe(composeStoreBridge());
    const addresses = NATS.map((n) => `${n}:${natsMqttPort(n)}`);
    const lines = (text: string) => text.split('\n').filter((l) => !l.startsWith('#'));
    expect(lines(bridge)).toEqual(lines(mosquittoBridge({ root: storeRoot, addresses })));
    const topics = (dir: string) =>
      lines(bridge)
        .filter((l) => l.startsWith('topic ') && l.split(' ')[2] === dir)
        .map((l) => l.split(' ')[1]);
    expect(topics('out').length).toBeGreaterThan(0);
    expect(topics('out').filter((t) => topics('in').includes(t))).toEqual([]);
  });

  it("starts the store's broker once every HQ replica is healthy: NATS drops what comes before an intake subscribes", () => {
    // Healthy means holding no intake or reading it, so the replica holding each intake reads it by then.
    expect(merged(BROKER).depends_on).toEqual(
      Object.fromEntries(REPLICAS.map((r) => [r, { condition: 'service_healthy' }])),
    );
  });

  it("turns off the store's simulated supplier: HQ's logistics supplies the store", () => {
    const intel = merged('inventory-intel');
    expect(intel.environment).toEqual({ ...store.services['inventory-intel']!.environment, RESTOCK_DELAY_S: 'off' });
  });

  it('asks only for secrets pnpm broker:setup writes to .env', () => {
    const text = readFileSync(repoPath('docker-compose.chain.yaml'), 'utf8');
    const asked = [...text.matchAll(/\$\{([A-Z_]+)(:\?[^}]*)?\}/g)];
    const written = new Set(Object.keys({ ...makeCredentials({}).env, ...makeHqSecrets({}) }));
    expect(asked.length).toBeGreaterThan(0);
    for (const [, name, error] of asked) {
      expect(written.has(name!), name).toBe(true);
      expect(error, name).toBe(`:?${NEEDS_SETUP}`);
    }
  });

  it("builds in CI each HQ service's image with the port compose gives it, and the build accepts that port", () => {
    const workflow = parse(readFileSync(repoPath('.github/workflows/ci.yml'), 'utf8')) as {
      jobs: { images: { strategy: { matrix: { include: Array<{ service: string; http_port: number }> } } } };
    };
    const hq = workflow.jobs.images.strategy.matrix.include.filter((e) => isHqService(e.service));
    const given = new Map(REPLICAS.map((r) => [serviceOf(r), Number(chain.services[r]!.build!.args!.HTTP_PORT)]));
    expect(hq).toEqual(HQ_SERVICES.map((s) => ({ service: s, http_port: given.get(s) })));
    // The Dockerfile's own port check, where the deployed service would run it.
    const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8').replaceAll('\\\n', ' ');
    const check = /RUN cd \/out && node --input-type=module -e "(.*)"$/m.exec(dockerfile)?.[1];
    const run = (service: string, port: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', check!], {
        cwd: repoPath(`services/${service}`),
        env: { SERVICE: service, HTTP_PORT: port },
      }).status;
    for (const [service, port] of given) expect(run(service, String(port)), service).toBe(0);
    for (const bad of ['', 'x', '0', '65536', '08200']) expect(run('head-office', bad), bad).toBe(1);
  });
});

/**
 * The HQ replicas' built output with exactly the environment compose gives them (the password as
 * `pnpm broker:setup` makes it), against a NATS cluster and PostgreSQL started here, and a
 * Mosquitto store bridged with the committed bridge file. What one host changes for a network of
 * containers: each host name (nats-N, hq-db) is 127.0.0.1 on the port started here, and
 * HTTP_PORT is 0 (the port bound is read from the log).
 */
describe.skipIf(skipWithoutNats || skipWithoutPostgres || skipWithoutMosquitto)(
  'docker-compose.chain.yaml environment, run as processes against NATS, PostgreSQL and a bridged Mosquitto',
  () => {
    let hq: NatsCluster;
    let db: Postgres;
    let broker: Mosquitto;
    let till: Collector;
    const procs = {} as Record<string, ServiceProcess>;
    const ports = {} as Record<string, number>;
    const secrets = makeHqSecrets({});
    const local = (text: string) =>
      NATS.reduce(
        (t, node, i) => t.replaceAll(`${node}:${natsMqttPort(node)}`, `127.0.0.1:${hq.nodes[i]!.mqttPort}`),
        text.replace(`@${HQ_DB}:5432/`, `@127.0.0.1:${db.port}/`),
      );
    /** A replica's /healthz body, 200 or 503; undefined while it does not answer. */
    const healthz = (replica: string) =>
      fetch(`http://127.0.0.1:${ports[replica]}/healthz`)
        .then((res) => res.json() as Promise<{ status: string; intake: false | { subscribed: boolean } }>)
        .catch(() => undefined);
    /** Whether every replica is healthy and each service has a replica reading its intake. */
    const intakesHeld = async () => {
      const states = new Map(await Promise.all(REPLICAS.map(async (r) => [r, await healthz(r)] as const)));
      const held = (service: string) =>
        REPLICAS.some((r) => {
          const intake = states.get(r)?.intake;
          return serviceOf(r) === service && intake && intake.subscribed;
        });
      return [...states.values()].every((h) => h?.status === 'ok') && HQ_SERVICES.every(held);
    };

    beforeAll(async () => {
      [hq, db] = await Promise.all([startNatsCluster(), startPostgres()]);
      // The account and database the postgres image makes from hq-db's environment.
      const { POSTGRES_USER: user, POSTGRES_DB: database } = chain.services[HQ_DB]!.environment!;
      const admin = await db.connect();
      try {
        await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${secrets[HQ_DB_PASSWORD]}'`);
        await admin.query(`CREATE DATABASE ${database} OWNER ${user}`);
      } finally {
        await admin.end();
      }
      broker = await startMosquitto({
        extraConfig: local(readFileSync(repoPath('chain/compose/bridge/bridge.conf'), 'utf8')),
      });
      for (const replica of REPLICAS) {
        const given = Object.entries(chain.services[replica]!.environment!).map(
          ([k, v]) => [k, local(interpolate(String(v), secrets))] as const,
        );
        procs[replica] = spawnService(serviceOf(replica), { ...Object.fromEntries(given), HTTP_PORT: '0' });
        ports[replica] = await procs[replica].httpPort(20_000);
      }
      // MQTT keeps nothing for a topic nobody reads: the intakes first, then the store's events.
      await waitUntil(intakesHeld, "each HQ service's intake", 20_000);
      till = await collect(broker.url, []);
    }, 60_000);
    afterAll(async () => {
      await till?.close();
      await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM')));
      await broker?.dispose();
      await Promise.all([hq?.dispose(), db?.dispose()]);
    });

    it("passes every HQ replica's container healthcheck, run with the same environment", async () => {
      for (const replica of REPLICAS) {
        const [, ...command] = chain.services[replica]!.healthcheck!.test;
        const status = await new Promise<number | null>((resolve) =>
          spawn(
            command[0] === 'node' ? process.execPath : command[0]!,
            [repoPath(`runtime/${command[1]!.replace('node_modules/@spectrum-grocers/runtime/', '')}`)],
            {
              env: { HTTP_PORT: String(ports[replica]) },
            },
          ).once('exit', resolve),
        );
        expect(status, replica).toBe(0);
      }
    });

    it("books a payment the store's broker bridges up in the head office's ledger, and orders for its restock alert", async () => {
      const stamp = Date.now();
      await till.publish(eventTopic(storeRoot, 'payment-due'), {
        event_id: `compose-payment-${stamp}`,
        timestamp: new Date().toISOString(),
        customer_id: 1,
        amount: 12.34,
        amount_cents: 1234,
      });
      await till.publish(eventTopic(storeRoot, 'restock-alert'), {
        event_id: `compose-alert-${stamp}`,
        timestamp: new Date().toISOString(),
        item_id: 7,
        quantity: 2,
        threshold: 5,
      });
      const office = REPLICAS.find((r) => serviceOf(r) === 'head-office')!;
      const ledger = await waitUntil(
        async () => {
          const body = await getJson<{ stores: Array<{ store: string; payments: number; total_cents: number }> }>(
            `http://127.0.0.1:${ports[office]}/ledger`,
          );
          return body.stores.find((s) => s.store === storeRoot.store && s.payments > 0);
        },
        'the payment in the ledger',
        20_000,
      );
      expect(ledger).toMatchObject({ payments: 1, total_cents: 1234 });
      const logistics = REPLICAS.find((r) => serviceOf(r) === 'logistics')!;
      const orders = await waitUntil(
        async () => {
          const body = await getJson<{ orders: Array<{ store: string; product_id: number }> }>(
            `http://127.0.0.1:${ports[logistics]}/orders`,
          );
          return body.orders.length > 0 ? body.orders : undefined;
        },
        'the order',
        20_000,
      );
      expect(orders).toEqual([expect.objectContaining({ store: storeRoot.store, product_id: 7 })]);
    });
  },
);
