// The contract every process of the chain agrees on: topics, payloads, products, ids and errors.
// It does no I/O and needs nothing but zod and a hash, so a CLI, a generator or a page can use it.
export {
  chainFilter,
  deadLetterTopic,
  EVENT_NAMES,
  EVENTS,
  eventTopic,
  parseTopic,
  publicationsOf,
  statusTopic,
  storeFilter,
  subscriptionsOf,
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
  CONTROL_ROOM,
  DEFAULT_ROOT,
  defaultClientId,
  HTTP_PORTS,
  isProcess,
  isService,
  OBSERVER,
  PROCESSES,
  serviceVariable,
  SERVICES,
  WATCHERS,
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
