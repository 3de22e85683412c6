/**
 * The yardstick of `pnpm bench`: departure → payment-due with nothing stored. One MQTT.js
 * client, as a service connects (QoS 1, a persistent session, no Nagle delay), parses each
 * departure, prices its basket from the catalog and publishes the payment at QoS 1. No
 * validation beyond JSON, no database, no outbox, no logs: what the broker, MQTT.js and
 * Node cost on their own, so a service's rate can be read as a share of it.
 *
 *   MQTT_URL=mqtt://127.0.0.1:1883 STORE=bench tsx --conditions=@spectrum-grocers/source scripts/relay.ts
 *
 * It ends on SIGTERM or SIGINT.
 */
import mqtt from 'mqtt';
import { DEFAULT_ROOT, eventTopic } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';

const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const root = { chain: DEFAULT_ROOT.chain, store: process.env.STORE ?? DEFAULT_ROOT.store };
const catalog = loadProductCatalog(process.env.CATALOG_FILE || undefined);
const departures = eventTopic(root, 'customer-departure');
const payments = eventTopic(root, 'payment-due');

const client = mqtt.connect(url, { clientId: `${root.store}-relay`, clean: false, reconnectPeriod: 200 });
const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
client.on('connect', () => {
  noDelay();
  client.subscribe(departures, { qos: 1 }, (err) => {
    if (err) throw err;
    console.log(JSON.stringify({ msg: 'subscribed' }));
  });
});
client.on('message', (_topic, payload) => {
  const d = JSON.parse(payload.toString()) as { event_id: string; customer_id: number; product_ids: number[] };
  let cents = 0;
  for (const id of d.product_ids) cents += catalog.get(id)?.price_cents ?? 0;
  client.publish(
    payments,
    JSON.stringify({
      event_id: `pay-${d.event_id}`,
      departure_event_id: d.event_id,
      causation_id: d.event_id,
      timestamp: new Date().toISOString(),
      customer_id: d.customer_id,
      amount: cents / 100,
      amount_cents: cents,
    }),
    { qos: 1 },
  );
});
const stop = () => client.end(false, () => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
