import type { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import { AppError, toAppError } from '@spectrum-grocers/contract';
import { type Logger } from '@spectrum-grocers/runtime';
import type { Authorizer } from './auth.js';
import { watchPacketSizes } from './frames.js';
import { createAdmission, DEFAULT_LIMITS, type Admission, type BrokerLimits } from './limits.js';
import { boundQueues, type OutgoingQueues } from './queues.js';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Mosquitto's max_packet_size in broker/mosquitto.conf. */
export const DEFAULT_MAX_PACKET_BYTES = 2 * 1024 * 1024;
/** A CONNECT (the first packet) holds names, a password and a will: never more than this. */
const MAX_CONNECT_BYTES = 256 * 1024;
/** A socket that has not sent CONNECT by then is closed (aedes waits 30 s by default). */
const CONNECT_TIMEOUT_MS = 10_000;

export interface EmbeddedBrokerOptions {
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
   * A client sending a bigger packet is disconnected and the packet dropped, as Mosquitto does
   * past max_packet_size; it is cut off as soon as the packet's header announces its size.
   */
  maxPacketBytes?: number;
}

/** What aedes' memory persistence is asked to keep of a persistent client's SUBSCRIBE. */
interface PersistedSubscriptions {
  addSubscriptions(client: Client, subs: Array<{ topic: string }>): Promise<void>;
}

/**
 * aedes stores a persistent client's whole SUBSCRIBE, the filters its rules refused included,
 * and queues messages for them: keep only what the client may read.
 */
function keepReadableOnly(persistence: PersistedSubscriptions, auth: Authorizer): void {
  const add = persistence.addSubscriptions.bind(persistence);
  persistence.addSubscriptions = (client, subs) =>
    add(
      client,
      subs.filter((s) => auth.mayRead(client, s.topic)),
    );
}

/** A CONNECT refused for want of room: CONNACK 3, server unavailable [MQTT-3.2.2-3]. */
function unavailable(reason: string): AuthenticateError {
  return Object.assign<Error, Pick<AuthenticateError, 'returnCode'>>(new Error(reason), { returnCode: 3 });
}

/** aedes' hooks: the authorizer's rules first, then the room each client may take. */
function hooks(opts: EmbeddedBrokerOptions, admission: Admission, broker: () => Aedes): AedesOptions {
  const { auth, log } = opts;
  return {
    connectTimeout: CONNECT_TIMEOUT_MS,
    authenticate(client, username, password, done) {
      const admit = (): void => {
        const reason = admission.admit(client, auth?.accountOf(client) ?? '', broker().connectedClients);
        if (reason === undefined) return done(null, true);
        log.warn({ clientId: client.id, reason }, 'refused a connection');
        done(unavailable(reason), false);
      };
      if (!auth?.authenticate) return admit();
      auth.authenticate.call(broker(), client, username, password, (err, ok) => (err || !ok ? done(err, ok) : admit()));
    },
    authorizePublish(client, packet, done) {
      if (!auth?.authorizePublish) return done(null);
      auth.authorizePublish.call(broker(), client, packet, done);
    },
    authorizeSubscribe(client, sub, done) {
      const withRoom = (err: Error | null, granted?: typeof sub | null): void => {
        if (err || !granted) return done(err, granted);
        const reason = admission.subscribe(client, granted.topic);
        if (reason === undefined) return done(null, granted);
        log.warn({ clientId: client.id, filter: granted.topic.slice(0, 200), reason }, 'refused a subscription');
        done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3]
      };
      if (!auth?.authorizeSubscribe) return withRoom(null, sub);
      auth.authorizeSubscribe.call(broker(), client, sub, withRoom);
    },
    ...(auth?.authorizeForward && { authorizeForward: auth.authorizeForward }),
  };
}

/**
 * aedes in this process: MQTT 3.1.1, sessions in memory (they last as long as this process),
 * enough for one machine. Production runs Mosquitto (broker/mosquitto.conf).
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const maxPacketBytes = opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const isOwn = opts.isOwn ?? (() => false);
  const admission = createAdmission(limits, isOwn);
  const broker: Aedes = await Aedes.createBroker(hooks(opts, admission, () => broker));
  const persistence = (broker as unknown as { persistence: OutgoingQueues & PersistedSubscriptions }).persistence;
  boundQueues(persistence, (id) => (isOwn(id) ? limits.maxQueued : limits.maxQueuedOther), opts.log);
  if (opts.auth) keepReadableOnly(persistence, opts.auth);
  broker.on('unsubscribe', (filters, client) => admission.unsubscribed(client, filters));
  broker.on('clientError', (client, err) => opts.log.debug({ clientId: client.id, err: err.message }, 'client error'));
  // aedes reports a persistence failure as 'error'; unheard, it would end the process.
  (broker as EventEmitter).on('error', (err: unknown) =>
    opts.log.error({ err: toAppError(err) }, 'embedded broker error'),
  );
  const server = createServer({ noDelay: true }, (socket) => {
    broker.handle(socket);
    watchPacketSizes(socket, { firstMax: MAX_CONNECT_BYTES, max: maxPacketBytes }, (declared, max) =>
      opts.log.warn({ remote: socket.remoteAddress, declared, max }, 'cut off a client sending an oversized packet'),
    );
  });
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
