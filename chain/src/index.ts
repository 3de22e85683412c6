// A chain on one machine (`pnpm start:chain`, src/main.ts), and what runs its head office's
// servers: a NATS cluster speaking MQTT and PostgreSQL, in a directory of their own on fixed
// ports, or (the tests', through @spectrum-grocers/testkit) in a temp dir on free ports; and the
// same head office's files for Docker Compose (docker-compose.chain.yaml).
export { findServerBinary } from './executables.js';
export { findNatsServer, type NatsNode, type NatsPorts } from './nats-node.js';
export { startNatsCluster, type NatsCluster, type NatsClusterOptions } from './nats.js';
export { findPostgres } from './postgres-server.js';
export { startPostgres, type PgClient, type Postgres, type PostgresOptions } from './postgres.js';
export { freePort, freePorts, waitUntil } from './ports.js';
export { composeFiles, composeStoreBridge } from './compose.js';
