import { findNatsServer } from '@spectrum-grocers/chain';

// The cluster itself is the chain's (`pnpm start:chain` runs one): tests start it in a temp dir on free ports.
export { findNatsServer, startNatsCluster, type NatsCluster, type NatsNode } from '@spectrum-grocers/chain';

/**
 * Whether tests that need nats-server should be skipped: only when it is missing and we are not
 * in CI. In CI a missing server makes them fail (startNatsCluster throws), never skip.
 */
export const skipWithoutNats = findNatsServer() === undefined && !process.env.CI;
