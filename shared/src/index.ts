export { connectBus, clientOptions, type Bus, type MessageHandler } from './bus.js';
export { BaseEnv, loadConfig, envBoolean, envPort, envPositiveInt, serviceVariable } from './config.js';
export type { BaseConfig, Config, LoadConfigOptions } from './config.js';
export { createConsumer } from './consumer.js';
export type { Consumer, ConsumerStats, EventHandler, Routes } from './consumer.js';
export { AppError, ERROR_CODES, toAppError, type ErrorCode } from './errors.js';
export {
  startHttpServer,
  textRoute,
  MAX_BODY_BYTES,
  type HttpReply,
  type HttpServer,
  type Route,
  type StreamRoute,
} from './http.js';
export { deriveEventId, newEventId } from './ids.js';
export { runMain, untilSignal } from './lifecycle.js';
export { createLogger, stdoutWriter, type Logger } from './logger.js';
export { createOutbox, type Outbox, type Outgoing } from './outbox.js';
export { describeIssues, idFromBytes, parseEvent, parseJson, validateEvent, type ParseResult } from './parse.js';
export {
  createProductCatalog,
  loadProductCatalog,
  PRODUCTS_FILE,
  type Product,
  type ProductCatalog,
} from './products.js';
export * as schemas from './schemas.js';
export type { DeadLetter, ServiceStatus } from './schemas.js';
export { runConsumer, startService, type ConsumerSpec, type RunningService, type ServiceOptions } from './service.js';
export { openDatabase, type Db } from './store.js';
export { lockDataDir } from './data-lock.js';
export { LAUNCHER_LOCK, readSessionFile } from './session.js';
export { backoffDelay, sleep, withTimeout } from './timers.js';
export {
  EVENTS,
  EVENT_NAMES,
  SERVICES,
  deadLetterTopic,
  eventTopic,
  publicationsOf,
  statusTopic,
  subscriptionsOf,
  type Event,
  type EventName,
  type ServiceName,
  type TopicRoot,
  type WireEvent,
} from './topics.js';
export {
  createScanRoute,
  GateEnv,
  recordScan,
  randomInt,
  runGate,
  type GateSpec,
  runSimulation,
  type ScanEvent,
  type ScanStore,
  type SimulationOptions,
} from './gate.js';
export { topicTable } from './docs.js';
export { runHealthcheck } from './healthcheck.js';
export {
  accessRules,
  clientIdOwner,
  CONTROL_ROOM,
  filterAllowed,
  mosquittoAcl,
  OBSERVER,
  topicMatches,
  WATCHERS,
  type AccessRules,
  type Watcher,
} from './acl.js';
export {
  ACCOUNTS,
  makeCredentials,
  mergeEnvFile,
  mosquittoPasswordLine,
  newPassword,
  passwordVariable,
  SESSION_FILE,
  type Account,
} from './credentials.js';
export { createMetrics, type Metrics, type MetricSources, type Outcome } from './metrics.js';
export { createSseHub, type SseEvent, type SseHub } from './sse.js';
export { asyncApiDocument, asyncApiYaml } from './asyncapi.js';
