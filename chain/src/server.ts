import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { ProcessOutput } from './output.js';
import { waitUntil } from './ports.js';

/** Send `signal` to a server and every process of its group (it leads one: it starts detached). */
export function killGroup(proc: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-proc.pid!, signal);
    return true;
  } catch {
    return false;
  }
}

/** Every server this process started, killed with their groups however this process ends. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) killGroup(c, 'SIGKILL');
});

export interface ServerSpec {
  /** Its name in messages: `nats-server nats-1`, `postgres`. */
  readonly what: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The user to run as, its working directory. */
  readonly options?: Pick<SpawnOptions, 'uid' | 'gid' | 'cwd'>;
  /** Where its output goes: kept across its starts. */
  readonly out: ProcessOutput;
  /** Whether it is ready, from what it wrote since this start (and whatever else it answers). */
  readonly ready: (output: string) => boolean | Promise<boolean>;
  readonly timeoutMs: number;
  /** It ended after it was ready, and nobody stopped it. */
  readonly onExit?: (how: string) => void;
}

export interface Server {
  readonly proc: ChildProcess;
  readonly alive: boolean;
  /** Resolves once it is ready; rejects, with its output, if it exits or takes longer than the spec's timeout. */
  readonly started: Promise<void>;
  /**
   * Send `signal` (SIGKILL to its whole group), SIGKILL the group if it is still there after
   * `graceMs`, and wait for it to exit. Its exit is then no surprise (no `onExit`).
   */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

/**
 * Start a server in a process group of its own (a Ctrl-C at the terminal is for whoever started
 * it to pass on), its output followed, and killed if this process exits first.
 */
export function startServer(spec: ServerSpec): Server {
  const proc = spawn(spec.command, spec.args, { ...spec.options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  let ready = false;
  let stopping = false;
  proc.once('exit', (code, signal) => {
    running.delete(proc);
    if (ready && !stopping) spec.onExit?.(signal ?? `exit code ${code}`);
  });
  const from = spec.out.mark();
  spec.out.follow([proc.stdout, proc.stderr]);
  const started = waitUntil(
    async () => {
      if (!alive())
        throw new Error(`${spec.what} exited with ${proc.exitCode ?? proc.signalCode}:\n${spec.out.since(from)}`);
      return spec.ready(spec.out.since(from));
    },
    `${spec.what} to start`,
    spec.timeoutMs,
  ).then(() => {
    ready = true;
  });
  return {
    proc,
    get alive() {
      return alive();
    },
    started,
    async stop(signal, graceMs) {
      if (!alive()) return;
      stopping = true;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      if (signal === 'SIGKILL') killGroup(proc, signal);
      else proc.kill(signal);
      const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}
