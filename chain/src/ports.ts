import { isFree } from '@spectrum-grocers/store';

/**
 * A TCP port free on 127.0.0.1 a moment ago, drawn from 20000–32767: below Linux's ephemeral
 * range, so the local end of some outgoing connection cannot take it before it is listened on.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (await isFree('127.0.0.1', port)) return port;
  }
  throw new Error('no free TCP port found in 20000-32767');
}

/** `count` distinct free ports (each free a moment ago, as `freePort`). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Poll `check` every `intervalMs` until it returns a truthy value; reject with `what` after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
