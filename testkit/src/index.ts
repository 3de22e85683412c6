export { startAedes, type EmbeddedTestBroker } from './aedes.ts';
export { collect, type Collector, type Received } from './collector.ts';
export { findMosquitto, rewriteConfig, skipWithoutMosquitto, startMosquitto, type Mosquitto } from './mosquitto.ts';
export { repoPath } from './paths.ts';
export { freePort, waitForPort, waitUntil } from './ports.ts';
export { spawnService, type ServiceProcess } from './services.ts';
export { quietLogger, tempDatabase, tempDir } from './store.ts';
