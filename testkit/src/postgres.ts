import { findPostgres } from '@spectrum-grocers/chain';

// The server itself is the chain's (`pnpm start:chain` runs one): tests start it in a temp dir on a free port.
export { findPostgres, startPostgres, type PgClient, type Postgres } from '@spectrum-grocers/chain';

/**
 * Whether tests that need PostgreSQL should be skipped: only when it is missing and we are not
 * in CI. In CI a missing PostgreSQL makes them fail (startPostgres throws), never skip.
 */
export const skipWithoutPostgres = findPostgres() === undefined && !process.env.CI;
