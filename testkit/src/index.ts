export { startAedes, type EmbeddedTestBroker } from './aedes.js';
export { collect, type Collector, type Received } from './collector.js';
export {
  findMosquitto,
  rewriteConfig,
  skipWithoutMosquitto,
  startMosquitto,
  type BrokerAuth,
  type Mosquitto,
} from './mosquitto.js';
export { findNatsServer, skipWithoutNats, startNatsCluster, type NatsCluster, type NatsNode } from './nats.js';
export { holdsIntake, hqReplicaEnv } from './hq.js';
export { repoPath } from './paths.js';
export { findPostgres, skipWithoutPostgres, startPostgres, type PgClient, type Postgres } from './postgres.js';
export { freePort, freePorts, waitUntil } from './ports.js';
export { spawnNode, spawnService, TEST_SERVICE_ENV, type ServiceProcess } from './services.js';
export { quietLogger, tempDatabase, tempDir } from './store.js';
export { TEST_BROKERS, type TestBroker } from './brokers.js';
export { launchStore, launchTestStore, type LaunchedStore, type LaunchOptions } from './launcher.js';
export {
  findChromium,
  launchChromium,
  openStoreInBrowser,
  screenshotPath,
  skipWithoutChromium,
  watchPage,
  type PageProblems,
  type StoreInBrowser,
} from './browser.js';
export { startTcpProxy, type TcpProxy } from './proxy.js';
