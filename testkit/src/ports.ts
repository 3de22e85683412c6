// Free ports and polling are the chain's too (it starts NATS and PostgreSQL on free ports for tests).
export { freePort, freePorts, waitUntil } from '@spectrum-grocers/chain';
