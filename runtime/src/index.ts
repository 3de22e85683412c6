// The runtime of every process of the store: one service lifecycle over the bus (the broker
// connection), the consumer and outbox (exactly-once effects in SQLite), HTTP, metrics, config
// and logs. What services agree on is in @spectrum-grocers/contract.
export { runService, startService, type RunningService, type ServiceContext, type ServiceSpec } from './service.js';
export type { EventHandler } from './consumer.js';
export { gateService, GateEnv, randomInt, type GateSpec } from './gate.js';
export { envPositiveInt, loadConfig } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { counted, shortId } from './pretty.js';
export { eventLines, type EventLine } from './event-lines.js';
export { openDatabase, OUTBOX_BY_EVENT_ID, rebuildTable, uniqueOn, type Db } from './store.js';
export { loadProductCatalog } from './products.js';
export { ErrorBody, route, streamRoute, textRoute, type HttpRoute, type ReplyOf, type RouteSpec } from './routes.js';
export { createSseHub, type SseHub } from './sse.js';
export { faviconRoute } from './favicon.js';
export { parseFailureLine, runMain, SERVICE_NODE_FLAGS, untilSignal } from './lifecycle.js';
export { connectBus, eachMessage } from './bus.js';
export { lockDataDir } from './data-lock.js';
export { backoffDelay, sleep } from './timers.js';
export type { Outbox } from './outbox.js';
export { LAUNCHER_LOCK, SESSION_FILE } from './session.js';
