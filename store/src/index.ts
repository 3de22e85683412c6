// What `pnpm start:chain` (@spectrum-grocers/chain) reuses of the store's launcher: the supervisor
// that runs, prefixes and restarts child processes, and the check of ports before anything starts.
export { isFree, takenPorts, type Listener } from './ports.js';
export { prefixFor, serviceEnv, superviseServices, type Fatal, type Launch, type Supervisor } from './supervisor.js';
