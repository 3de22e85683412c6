// The container healthcheck (`node node_modules/@spectrum-grocers/runtime/dist/healthcheck.js`):
// exit 0 when this container's process answers 200 on /healthz. A file to run rather than
// `node -e '…'`, so no quoting can break between a compose file and the shell that runs it.
// The port is HTTP_PORT, or the one the catalog gives the process SERVICE names (shifted by
// PORT_OFFSET, as the process itself shifts it).
import { isProcess } from '@spectrum-grocers/contract';
import { portOffsetProblem, storeInstance } from './instance.js';

const service = process.env.SERVICE;
const offset = process.env.PORT_OFFSET || '0';
if (portOffsetProblem(offset) !== undefined) {
  process.stderr.write(`healthcheck: PORT_OFFSET ${portOffsetProblem(offset)}\n`);
  process.exit(2);
}
const port =
  process.env.HTTP_PORT || (isProcess(service) ? storeInstance(Number(offset)).httpPort(service) : undefined);
if (port === undefined) {
  process.stderr.write('healthcheck: set HTTP_PORT, or SERVICE to a process of the store\n');
  process.exit(2);
}
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
