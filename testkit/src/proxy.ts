import { createServer, connect, type Socket } from 'node:net';
import { freePort } from './ports.js';

export interface TcpProxy {
  readonly port: number;
  /** Connections through it now. */
  readonly connections: number;
  /** Cut the link: drop every connection and refuse new ones (they are accepted and closed at once). */
  cut(): void;
  /** Let connections through again. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy to `targetPort` that a test can cut and restore: a network link going
 * down without either end being stopped, as a store's line to its head office does.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let isCut = false;
  const server = createServer((inbound) => {
    if (isCut) {
      inbound.destroy();
      return;
    }
    const outbound = connect(targetPort, '127.0.0.1');
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('close', () => {
        open.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
      s.on('error', () => s.destroy());
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (listening) break;
    if (attempt >= 5) throw new Error('no free port for a TCP proxy');
  }
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get connections() {
      return Math.floor(open.size / 2);
    },
    cut() {
      isCut = true;
      for (const s of open) s.destroy();
    },
    restore() {
      isCut = false;
    },
    close() {
      isCut = true;
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
