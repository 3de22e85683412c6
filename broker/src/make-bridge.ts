// Writes broker/conf.d/bridge.conf: the store's Mosquitto bridge to its head office, from the
// topic catalog. Not committed (it holds the store's HQ account); without it the store runs alone.
//
//   HQ_MQTT_ADDRESSES=hq-1:1883,hq-2:1883,hq-3:1883 [HQ_USERNAME=… HQ_PASSWORD=…] pnpm broker:bridge
//   (CHAIN and STORE as the services use them; .env is read too)
import { mkdirSync, writeFileSync } from 'node:fs';
import { config } from 'dotenv';
import { DEFAULT_ROOT } from '@spectrum-grocers/contract';
import { mosquittoBridge } from './bridge.js';

config({ path: new URL('../../.env', import.meta.url), quiet: true });
const addresses = (process.env.HQ_MQTT_ADDRESSES ?? '')
  .split(',')
  .map((a) => a.trim())
  .filter(Boolean);
const bad = addresses.filter((a) => !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(a));
if (addresses.length === 0 || bad.length > 0) {
  process.stderr.write(
    `HQ_MQTT_ADDRESSES must list the head office's MQTT listeners as host:port, comma-separated${bad.length ? ` (not: ${bad.join(', ')})` : ''}\n`,
  );
  process.exit(1);
}
const root = { chain: process.env.CHAIN || DEFAULT_ROOT.chain, store: process.env.STORE || DEFAULT_ROOT.store };
const dir = new URL('../conf.d/', import.meta.url);
mkdirSync(dir, { recursive: true });
const conf = mosquittoBridge({ root, addresses, username: process.env.HQ_USERNAME, password: process.env.HQ_PASSWORD });
writeFileSync(new URL('bridge.conf', dir), conf, { mode: 0o640 });
process.stdout.write(`wrote broker/conf.d/bridge.conf: ${root.chain}/${root.store} to ${addresses.join(', ')}\n`);
