import { createServer } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import { AppError, type Logger } from '@spectrum-grocers/shared';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * aedes in this process: MQTT 3.1.1, sessions in memory (they last as long as this process),
 * enough for one machine. Production runs Mosquitto (broker/mosquitto.conf).
 */
export async function startEmbeddedBroker(opts: {
  host: string;
  port: number;
  log: Logger;
  /** Who may connect and what each may do; omit for an open broker. */
  auth?: Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>;
}): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker({ ...opts.auth });
  const server = createServer({ noDelay: true }, broker.handle);
  broker.on('clientError', (client, err) => opts.log.debug({ clientId: client.id, err: err.message }, 'client error'));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new AppError(
        'PORT_IN_USE',
        `port ${opts.port} is already in use (another MQTT broker?): set MQTT_PORT to a free port, or MQTT_URL=mqtt://host:port to use that broker`,
      );
    }
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  opts.log.info({ host: opts.host, port }, 'embedded MQTT broker (aedes) listening');
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close();
        broker.close(() => resolve());
      }),
  };
}
