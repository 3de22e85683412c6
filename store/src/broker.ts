import type { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { AppError, toAppError, type Logger } from '@spectrum-grocers/shared';
import type { Authorizer } from './auth.js';
import { createSessionGuard, DEFAULT_LIMITS, type BrokerLimits } from './limits.js';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Mosquitto's max_packet_size in broker/mosquitto.conf. */
export const DEFAULT_MAX_PACKET_BYTES = 2 * 1024 * 1024;
/** A socket that has not sent CONNECT by then is closed (aedes waits 30 s by default). */
const CONNECT_TIMEOUT_MS = 10_000;
/** TCP connections beyond MQTT_MAX_CLIENTS: room for the store's own processes and refusals. */
const SOCKET_HEADROOM = 64;

/**
 * aedes in this process: MQTT 3.1.1, sessions in memory (they last as long as this process),
 * enough for one machine. Production runs Mosquitto (broker/mosquitto.conf).
 */
export async function startEmbeddedBroker(opts: {
  host: string;
  port: number;
  log: Logger;
  /** Who may connect and what each may do; omit for an open broker. */
  auth?: Authorizer;
  /** What other clients may make the broker hold; the store's own processes (`isOwn`) are always let in. */
  limits?: BrokerLimits;
  /** Whether a client id is one of the store's own processes' (default: none is). */
  isOwn?: (clientId: string) => boolean;
  /**
   * A client publishing a bigger message is disconnected and the message dropped, as Mosquitto
   * does past max_packet_size (aedes has no cap of its own; it reads the packet, then refuses it).
   */
  maxPacketBytes?: number;
}): Promise<EmbeddedBroker> {
  const maxPacketBytes = opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const guard = createSessionGuard(limits, opts.isOwn ?? (() => false), opts.log);
  const authorize = opts.auth?.authorizePublish;
  const authenticate = opts.auth?.authenticate;
  const broker: Aedes = await Aedes.createBroker({
    ...opts.auth,
    connectTimeout: CONNECT_TIMEOUT_MS,
    authenticate(client, username, password, done) {
      const admit = (): void => {
        const reason = guard.admit(client, broker.connectedClients);
        if (reason === undefined) return done(null, true);
        opts.log.warn({ clientId: client.id, reason }, 'refused a connection');
        // CONNACK 3, server unavailable [MQTT-3.2.2-3]: a matter of room, not of who it is.
        done(Object.assign<Error, Pick<AuthenticateError, 'returnCode'>>(new Error(reason), { returnCode: 3 }), false);
      };
      if (!authenticate) return admit();
      authenticate.call(this, client, username, password, (err, ok) => (err || !ok ? done(err, ok) : admit()));
    },
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
  guard.bound((broker as unknown as { persistence: Parameters<typeof guard.bound>[0] }).persistence);
  const server = createServer({ noDelay: true }, broker.handle);
  server.maxConnections = limits.maxClients + SOCKET_HEADROOM;
  broker.on('clientError', (client, err) => opts.log.debug({ clientId: client.id, err: err.message }, 'client error'));
  // aedes reports a persistence failure as 'error'; unheard, it would end the process.
  (broker as EventEmitter).on('error', (err: unknown) =>
    opts.log.error({ err: toAppError(err) }, 'embedded broker error'),
  );
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
