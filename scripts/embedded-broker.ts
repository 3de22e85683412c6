/**
 * The store's embedded broker (aedes, as `pnpm start` runs it) in a process of its own, for
 * `pnpm bench`: open to every client, on 127.0.0.1:MQTT_PORT. It ends on SIGTERM or SIGINT.
 *
 *   MQTT_PORT=1883 tsx --conditions=@spectrum-grocers/source scripts/embedded-broker.ts
 */
import { createLogger, loadConfig } from '@spectrum-grocers/runtime';
import { startEmbeddedBroker } from '../store/src/broker.js';

const config = loadConfig('embedded-broker', { env: { LOG_LEVEL: 'warn', LOG_FORMAT: 'json' }, dotenv: false });
const broker = await startEmbeddedBroker({
  host: '127.0.0.1',
  port: Number(process.env.MQTT_PORT),
  log: createLogger(config),
  // The bench's load generator and watcher are as much the store's own as its services.
  isOwn: () => true,
});
console.log(JSON.stringify({ msg: 'listening', url: broker.url }));
const stop = () => void broker.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
