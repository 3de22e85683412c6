import { afterEach, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
import {
  collect,
  quietLogger,
  skipWithoutNats,
  startAedes,
  startNatsCluster,
  tempDir,
  waitUntil,
  type Collector,
} from '@spectrum-grocers/testkit';
import { loadUplinkConfig } from './config.js';
import { startUplink } from './uplink.js';

const PAYMENTS = 1000;

describe.skipIf(skipWithoutNats)('the uplink to an HQ on a 3-node NATS cluster', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it(`gets every one of ${PAYMENTS} payment-dues to HQ while the node it is connected to is killed with SIGKILL`, async () => {
    const cluster = await startNatsCluster();
    cleanup.push(() => cluster.dispose());
    const store = await startAedes();
    const data = tempDir('ff-uplink-nats-');
    cleanup.push(() => store.close(), data.remove);
    const root = { chain: 'spectrum-grocers', store: `nats-${process.pid}` };
    const topic = eventTopic(root, 'payment-due');
    const [first, , third] = cluster.nodes;
    // HQ's reader: a persistent QoS 1 session on a node that stays up.
    const ledger: Collector = await collect(cluster.mqttUrls[2]!, topic, {
      clean: false,
      clientId: `hq-ledger-${root.store}`,
      protocolVersion: 4,
      reconnectPeriod: 500,
    });
    cleanup.push(() => ledger.close());
    // Read as HQ's intake reads: a twin session on another node, one copy of each event kept
    // (with NATS 2.9 one session alone was seen to miss a message when a node went down).
    const twin: Collector = await collect(cluster.mqttUrls[1]!, topic, {
      clean: false,
      clientId: `hq-ledger-twin-${root.store}`,
      protocolVersion: 4,
      reconnectPeriod: 500,
      servers: cluster.nodes.slice(1).map((n) => ({ host: '127.0.0.1', port: n.mqttPort })),
    });
    cleanup.push(() => twin.close());
    const till = await collect(store.url, `${topic}/unused`);
    cleanup.push(() => till.close());

    const config = loadUplinkConfig({
      MQTT_URL: store.url,
      HQ_URL: cluster.mqttUrls.join(','),
      STORE: root.store,
      DATA_DIR: data.path,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      MQTT_RECONNECT_MIN_MS: '100',
      MQTT_RECONNECT_MAX_MS: '1000',
    });
    const uplink = await startUplink(config, quietLogger('uplink'));
    cleanup.push(() => uplink.stop());
    await waitUntil(() => uplink.health().ok, 'the uplink connected to the store and to HQ', 30_000);
    expect(uplink.health().detail.hq.broker).toBe(cluster.mqttUrls[0]);

    const started = Date.now();
    const distinct = () =>
      new Set([...ledger.on(topic), ...twin.on(topic)].map((m) => m.json<{ event_id: string }>().event_id));
    const publishing = (async () => {
      for (let i = 0; i < PAYMENTS; i++) {
        await till.publish(topic, { event_id: `pay-${i}`, customer_id: i % 10, amount: 1 });
        // A steady stream, so that the kill lands mid-run.
        if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await waitUntil(() => distinct().size >= PAYMENTS / 4, 'a quarter at HQ', 30_000);
    await first!.kill('SIGKILL');
    const killedAt = Date.now();
    await publishing;
    await waitUntil(() => distinct().size === PAYMENTS, `all ${PAYMENTS} at HQ`, 90_000);
    const done = Date.now();
    expect(third!.alive).toBe(true);
    expect(uplink.health().detail.hq.broker).not.toBe(cluster.mqttUrls[0]);
    expect([...distinct()].sort()).toEqual(Array.from({ length: PAYMENTS }, (_, i) => `pay-${i}`).sort());
    if (process.env.FF_FIGURES) {
      process.stdout.write(
        `nats failover: ${done - started} ms for ${PAYMENTS}; ${done - killedAt} ms after the kill; ${ledger.on(topic).length} copies\n`,
      );
    }
  }, 180_000);
});
