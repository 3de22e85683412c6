// The runtime of every process of the store: one service lifecycle over the bus (the broker
// connection), the consumer and outbox (exactly-once effects in SQLite), HTTP, metrics, config
// and logs. What services agree on is in @spectrum-grocers/contract.
export { runService, startService, type RunningService, type ServiceContext, type ServiceSpec } from './service.js';
export type { EventHandler } from './consumer.js';
export { gateService, GateEnv, randomInt, type GateSpec } from './gate.js';
export { envBrokerUrls, envExistingFile, envPositiveInt, loadConfig, type BaseConfig, type Config } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { counted, shortId } from './pretty.js';
export { eventLines, type EventLine } from './event-lines.js';
export { openDatabase, OUTBOX_BY_EVENT_ID, rebuildTable, uniqueOn, type Db } from './store.js';
export { loadProductCatalog } from './products.js';
export { ErrorBody, route, streamRoute, textRoute, type HttpRoute, type ReplyOf, type RouteSpec } from './routes.js';
export { createSseHub, type SseHub } from './sse.js';
export { faviconRoute } from './favicon.js';
export { PAGE_DOM_HELPERS, PAGE_FRAME_STYLE } from './page-kit.js';
export { parseFailureLine, runMain, SERVICE_NODE_FLAGS, untilSignal } from './lifecycle.js';
export { connectBus, eachMessage, type Bus, type BusOptions } from './bus.js';
export { durabilityOf, type Durability } from './commit.js';
export { createForwarder, type Forwarder, type ForwarderDeps, type ForwarderStats } from './forward.js';
export { startHttpServer, type HttpServer } from './http.js';
export { createMetrics, type Metrics } from './metrics.js';
export { entryPackageVersion } from './version.js';
export { lockDataDir } from './data-lock.js';
export { backoffDelay, sleep } from './timers.js';
export { createOutbox, type Outbox, type Outgoing } from './outbox.js';
export { LAUNCHER_LOCK, SESSION_FILE } from './session.js';
