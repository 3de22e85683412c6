#!/usr/bin/env node
import { run } from './cli.js';

const interrupted = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interrupted,
});
// Nothing of ours is left running; do not wait for idle sockets or timers of libraries.
process.exit();
