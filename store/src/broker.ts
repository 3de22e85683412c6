import { createServer } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import { AppError, type Logger } from '@spectrum-grocers/shared';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Mosquitto's max_packet_size in broker/mosquitto.conf. */
export const DEFAULT_MAX_PACKET_BYTES = 2 * 1024 * 1024;

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
  /**
   * A client publishing a bigger message is disconnected and the message dropped, as Mosquitto
   * does past max_packet_size (aedes has no cap of its own; it reads the packet, then refuses it).
   */
  maxPacketBytes?: number;
}): Promise<EmbeddedBroker> {
  const maxPacketBytes = opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const authorize = opts.auth?.authorizePublish;
  const broker = await Aedes.createBroker({
    ...opts.auth,
    authorizePublish(client, packet, done) {
      const size = packet.payload.length + Buffer.byteLength(packet.topic);
      if (client && size > maxPacketBytes) {
        opts.log.warn(
          { clientId: client.id, topic: packet.topic, bytes: size, maxPacketBytes },
          'refused an oversized publish',
        );
        return done(new Error(`a message of ${size} bytes is over the limit of ${maxPacketBytes}`));
      }
      if (authorize) return authorize.call(this, client, packet, done);
      done(null);
    },
  });
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
