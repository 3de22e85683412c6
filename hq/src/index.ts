// What runs the head office's services: PostgreSQL for their state, one intake per service on the
// chain's clustered broker, the stores split between a service's replicas, and an outbox.
export { createPool, inTransaction, migrate, type Pool, type Tx } from './db.js';
export { storeOfTopic } from './intake.js';
export { enqueue, type HandlerContext, type HqHandler, type HqOutgoing } from './processor.js';
export {
  HqEnv,
  runHqService,
  startHqService,
  type HqConfig,
  type HqContext,
  type HqServiceSpec,
  type RunningHq,
} from './service.js';
