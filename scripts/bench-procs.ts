/**
 * What `pnpm bench` reads of the processes it runs: memory and CPU from /proc, readiness from
 * /healthz, and the bare relay spawned as a process of its own, as a service runs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoPath, spawnNode, type ServiceProcess } from '@spectrum-grocers/testkit';

/** Resident memory of a process now, in MB (VmRSS of /proc/<pid>/status). */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024);
}

const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds a process has used so far, user and system (utime + stime of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** The largest RSS seen of each pid, sampled every 100 ms until `stop()`. */
export function sampleRssPeaks(pids: readonly number[]): { stop(): Map<number, number> } {
  const peaks = new Map<number, number>(pids.map((pid) => [pid, rssMb(pid)]));
  const sample = () => {
    for (const pid of pids) {
      try {
        peaks.set(pid, Math.max(peaks.get(pid) ?? 0, rssMb(pid)));
      } catch {
        // gone already: its last sample stands
      }
    }
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

export interface Health {
  handled: number;
  duplicates?: number;
  batches?: number;
  largestBatch?: number;
}

/** A service's /healthz body, or undefined while it answers anything but 200. */
export async function health(port: number): Promise<Health | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return res.status === 200 ? ((await res.json()) as Health) : undefined;
  } catch {
    return undefined;
  }
}

/** Milliseconds from `spawnedAt` until the service's /healthz answers 200 (connected, subscribed). */
export async function startupMs(proc: ServiceProcess, spawnedAt: number, timeoutMs = 60_000): Promise<number> {
  const port = await proc.httpPort(timeoutMs);
  const deadline = spawnedAt + timeoutMs;
  while (performance.now() < deadline) {
    if (await health(port)) return performance.now() - spawnedAt;
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${proc.name}: /healthz not 200 within ${timeoutMs} ms`);
}

/** The bare relay (scripts/relay.ts) as a process of its own. */
export function spawnRelay(env: Record<string, string>): ServiceProcess {
  return spawnScript('relay', 'scripts/relay.ts', env);
}

/** A script of scripts/ as a process of its own, from source (tsx). */
export function spawnScript(name: string, path: string, env: Record<string, string>): ServiceProcess {
  return spawnNode(name, ['--import', 'tsx', '--conditions=@spectrum-grocers/source', repoPath(path)], env);
}
