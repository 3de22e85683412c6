// The contract every process of the chain agrees on: topics, payloads, products, ids and errors.
// It does no I/O and needs nothing but zod and a hash, so a CLI, a generator or a page can use it.
export {
  chainFilter,
  chainWideTopic,
  deadLetterTopic,
  downlinkTopics,
  EVENT_NAMES,
  EVENTS,
  eventTopic,
  eventTopics,
  eventsTravelling,
  parseTopic,
  publicationsOf,
  statusTopic,
  storeFilter,
  subscriptionsOf,
  uplinkFilters,
  type ConsumedBy,
  type Event,
  type EventMessage,
  type EventName,
  type PublishedBy,
  type TopicKind,
  type TopicRoot,
  type WireEvent,
} from './topics.js';
export {
  ALL_STORES,
  CONTROL_ROOM,
  DEFAULT_ROOT,
  defaultClientId,
  HQ_SERVICES,
  HTTP_PORTS,
  isHqService,
  isProcess,
  isService,
  OBSERVER,
  PROCESSES,
  serviceVariable,
  SERVICES,
  UPLINK,
  WATCHERS,
  type HqServiceName,
  type ProcessName,
  type ServiceName,
  type Watcher,
} from './services.js';
export * as schemas from './schemas.js';
export type { DeadLetter, ServiceStatus } from './schemas.js';
export { createProductCatalog, type ProductCatalog } from './products.js';
export { deriveEventId, newEventId } from './ids.js';
export { AppError, toAppError } from './errors.js';
export { idFromBytes, parseEvent, parseJson, parseMessage, validateEvent } from './parse.js';
