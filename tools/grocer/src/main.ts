#!/usr/bin/env node
import { run } from './cli.js';

const interrupted = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
// Should a command ever leave nothing to wait for before it answers, say so: a silent exit 13
// (Node's "unsettled top-level await") tells nobody anything.
process.once('beforeExit', () => {
  process.stderr.write('grocer: ended without an answer (a bug in grocer)\n');
  process.exit(1);
});
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interrupted,
});
// Nothing of ours is left running; do not wait for idle sockets or timers of libraries.
process.exit();
