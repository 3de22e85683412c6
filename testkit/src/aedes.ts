import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedTestBroker {
  readonly port: number;
  readonly url: string;
  readonly broker: Aedes;
  /** Close the listener and every client connection, keeping the in-memory sessions. */
  pause(): Promise<void>;
  /** Listen again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** An in-process aedes on a free loopback port. */
export async function startAedes(): Promise<EmbeddedTestBroker> {
  const broker = await Aedes.createBroker();
  let server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  server.on('connection', track);
  const closeServer = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    pause: closeServer,
    async resume() {
      server = createServer(broker.handle);
      server.on('connection', track);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      await closeServer();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
