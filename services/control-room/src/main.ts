import { runService, type ServiceContext } from '@spectrum-grocers/runtime';
import { SCHEMA } from './ledger.js';
import { createControlRoom, type ControlRoom } from './room.js';

let room: ControlRoom | undefined;
const roomOf = (ctx: ServiceContext) => (room ??= createControlRoom(ctx));

/** The control room: a read-only observer of the store's topics, on the one service lifecycle. */
runService({
  service: 'control-room',
  schema: SCHEMA,
  observes: (ctx) => roomOf(ctx).observe,
  http: (ctx) => roomOf(ctx).routes,
  health: (ctx) => roomOf(ctx).health(),
  stopping: () => room?.close(),
});
