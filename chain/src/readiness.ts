import { CONTROL_ROOM, UPLINK, type ProcessName } from '@spectrum-grocers/contract';
import { storeInstance } from '@spectrum-grocers/runtime/session';
import type { Part } from './plan.js';

/** Where a process listening on `host` is reached from here: a wildcard address on loopback. */
export function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** A process's /healthz, when it answers 200. */
async function healthy(host: string, port: number): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The head office's services none of whose replicas holds the service's intake, subscribed, yet.
 * A replica is healthy before it takes the intake, and until one does, what the stores send up
 * goes nowhere: MQTT drops what nobody is subscribed to.
 */
export async function intakesMissing(host: string, hq: readonly Part[]): Promise<string[]> {
  const bodies = await Promise.all(hq.map((p) => healthy(host, p.healthPort)));
  // `intake` is false in a replica that does not hold it, `{ subscribed, taken }` in the one that does.
  const holds = (body: Record<string, unknown> | undefined) => {
    const intake = body?.intake;
    return typeof intake === 'object' && intake !== null && (intake as { subscribed?: unknown }).subscribed === true;
  };
  const services = [...new Set(hq.map((p) => p.reports))];
  return services.filter((s) => !hq.some((p, i) => p.reports === s && holds(bodies[i])));
}

/** What a store must run before its pages are worth opening: its tills, its control room, its link to HQ. */
const STORE_UP: readonly ProcessName[] = ['fastlane-finale', CONTROL_ROOM, UPLINK];

/** `harbor-view uplink`, … for each of those processes of the stores that does not answer 200 yet. */
export async function storesDown(host: string, stores: readonly Part[]): Promise<string[]> {
  const checks = stores.flatMap((s) =>
    STORE_UP.map((p) => ({ what: `${s.name} ${p}`, port: storeInstance(Number(s.env.PORT_OFFSET)).httpPort(p) })),
  );
  const up = await Promise.all(checks.map((c) => healthy(host, c.port)));
  return checks.filter((_, i) => up[i] === undefined).map((c) => c.what);
}
