import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { AppError, toAppError, type ServiceStatus, statusTopic } from '@spectrum-grocers/contract';
import type { BaseConfig } from './config.js';
import type { Logger } from './logger.js';
import { backoffDelay, sleep, withTimeout } from './timers.js';

/** One message as the broker delivered it. */
export interface Delivery {
  readonly topic: string;
  readonly payload: Buffer;
  readonly packet: IPublishPacket;
}

/**
 * Handles messages in the order they came, several at once when several are waiting; each is
 * acknowledged, in that order, only when the returned promise resolves. A rejection leaves the
 * whole batch unacknowledged and drops the connection, so the broker delivers it again.
 */
export type BatchHandler = (batch: readonly Delivery[]) => Promise<void>;

/** Handles one message; it is acknowledged only when the returned promise resolves. */
export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>;

/** A batch handler that hands each message of a batch to `handler` in turn. */
export function eachMessage(handler: MessageHandler): BatchHandler {
  return async (batch) => {
    for (const d of batch) await handler(d.topic, d.payload, d.packet);
  };
}

export interface ConsumeOptions {
  /**
   * Messages held unacknowledged at once (MAX_IN_FLIGHT): past it, we stop reading the socket
   * until a batch is acknowledged. Default 1: one at a time.
   */
  maxInFlight?: number;
  /**
   * Batches handed over before the previous ones have finished (default 1). With 2, the next
   * batch is applied while the previous one waits for its disk sync; the handler must apply
   * batches in the order it is given them. Acknowledgements stay in arrival order.
   */
  batchesInProgress?: number;
}

/**
 * A service's one connection to the broker. It owns its MQTT.js client: everything else (the
 * outbox, metrics, pages) goes through this interface.
 */
export interface Bus {
  readonly config: BaseConfig;
  /** Resolves on the first successful connection. */
  readonly ready: Promise<void>;
  /** Rejects (CLIENT_ID_IN_USE) when the bus gives up; never resolves. */
  readonly failed: Promise<never>;
  isConnected(): boolean;
  /** The broker it is connected to, or trying next: one of `servers`, when it was given several. */
  broker(): string;
  /**
   * True while the subscriptions of `consume` are in place on the current connection: made on
   * it, or kept by the broker in our session. A consumer is healthy only then.
   */
  isSubscribed(): boolean;
  /** True once `pause` or `close` was called. */
  isClosing(): boolean;
  /**
   * Publish at QoS 1; `done` runs on the broker's PUBACK, or with the error that ended the wait.
   * A publish in flight when the connection drops is sent again on the next one (same session).
   */
  send(topic: string, payload: string | Buffer, opts: { retain: boolean }, done: (err?: Error) => void): void;
  /** `listener(true)` on every connection made (`sessionPresent` says whether ours was kept), `(false)` on every one lost. Returns its removal. */
  onConnection(listener: (up: boolean, sessionPresent: boolean) => void): () => void;
  /**
   * Subscribe at QoS 1 and hand the messages to `handler` in batches, in the order they came:
   * whatever arrived while the batches in progress (`batchesInProgress`) were handled, up to
   * `maxInFlight` held. Each is acknowledged after its batch's handler finished and every batch
   * before it was acknowledged, in arrival order [MQTT-4.6.0-2]. A handler
   * must not await a PUBACK of its own once `maxInFlight` messages are held: MQTT.js reads no
   * packet (that PUBACK among them) until a batch is acknowledged.
   */
  consume(topics: readonly string[], handler: BatchHandler, opts?: ConsumeOptions): Promise<void>;
  /** Messages received and not yet acknowledged on this connection. */
  inFlight(): number;
  /** Stop taking new messages (they stay unacknowledged, for our next session) and wait for the batches in hand. */
  pause(): Promise<void>;
  /** `pause`, then publish `offline` and disconnect, within `budgetMs` (default SHUTDOWN_TIMEOUT_MS). */
  close(budgetMs?: number): Promise<void>;
}

/**
 * A connection the broker closes this soon after accepting it is suspect: when it keeps
 * happening, another process holds our client id and each connect kicks the other out
 * [MQTT-3.1.4-2]. We say so at SUSPECT_TAKEOVERS and stop at MAX_TAKEOVERS instead of
 * flapping forever.
 */
const TAKEOVER_WINDOW_MS = 5_000;
const SUSPECT_TAKEOVERS = 3;
const MAX_TAKEOVERS = 6;

/** A SUBACK that refuses a filter (0x80), as MQTT.js reports it. */
function isRefusal(err: unknown): boolean {
  return (err as { packet?: { cmd?: string } }).packet?.cmd === 'suback';
}

function statusPayload(service: string, status: ServiceStatus['status']): string {
  const body: ServiceStatus = { service, status, timestamp: new Date().toISOString() };
  return JSON.stringify(body);
}

export interface BusOptions {
  /**
   * Publish our retained `online` status on connect and leave `offline` (and a last will);
   * default true. A read-only account (the control room's `observer`) may not.
   */
  announce?: boolean;
  /**
   * Brokers to connect to in turn, moving on to the next at each reconnect (MQTT.js `servers`):
   * the nodes of a clustered broker, so that one going down is left for another. The first is
   * the one `config.mqtt.url` names.
   */
  servers?: readonly string[];
  /**
   * How long a broker that refuses our subscriptions (SUBACK 0x80) is asked again before the
   * refusal counts (NOT_AUTHORIZED). A NATS node refuses a QoS 1 subscription for a moment after
   * a failover, while a leader is elected; an ACL refuses for good. Default 0: at once.
   */
  refusalGraceMs?: number;
  /**
   * A session that ends with the connection (default false: the broker keeps our subscriptions
   * and queues for us while we are away). For a connection whose id changes with each start,
   * which would otherwise leave a session behind at every restart.
   */
  clean?: boolean;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/** MQTT.js's `servers` entry for a broker URL (mqtt, mqtts, ws or wss: a path is not carried). */
function serverOf(url: string): { host: string; port: number; protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss' } {
  const u = new URL(url);
  const protocol = u.protocol.replace(/:$/, '') as 'mqtt' | 'mqtts' | 'ws' | 'wss';
  // An IPv6 literal comes bracketed ([::1]); a socket wants it bare.
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) || DEFAULT_PORTS[protocol]!, protocol };
}

/** Options every service connects with: the delivery rules of the spec in one place. */
export function clientOptions(config: BaseConfig, opts: BusOptions = {}): IClientOptions {
  return {
    ...(opts.servers && opts.servers.length > 1 ? { servers: opts.servers.map(serverOf) } : {}),
    clientId: config.mqtt.clientId,
    username: config.mqtt.username,
    password: config.mqtt.password,
    // Persistent session: the broker keeps our subscriptions and queues QoS 1 while we are down.
    clean: opts.clean ?? false,
    protocolVersion: 4,
    // mqtts:// and wss:// verify the broker against this CA (and the system's when none is given).
    ...(config.mqtt.caFile ? { ca: readFileSync(config.mqtt.caFile) } : {}),
    keepalive: config.mqtt.keepaliveS,
    connectTimeout: 10_000,
    // We reconnect ourselves, with exponential backoff (MQTT.js only knows a fixed period).
    reconnectPeriod: 0,
    manualConnect: true,
    // MQTT.js would build a table of 65,536 packet-id buffers (~8 MB of heap) on its first write.
    writeCache: false,
    // MQTT.js resubscribes only after reconnects of its own (reconnectPeriod > 0); ours do it
    // themselves, on every CONNACK without our session (connectBus).
    resubscribe: false,
    ...(opts.announce === false
      ? {}
      : {
          will: {
            topic: statusTopic(config.topics, config.service),
            payload: Buffer.from(statusPayload(config.service, 'offline')),
            qos: 1,
            retain: true,
          },
        }),
  };
}

export function connectBus(config: BaseConfig, log: Logger, opts: BusOptions = {}): Bus {
  const announce = opts.announce !== false;
  const client = mqtt.connect(config.mqtt.url, clientOptions(config, opts));
  const several = (opts.servers?.length ?? 0) > 1;
  /** Where the client connects now: with `servers`, MQTT.js moves host and port on each reconnect. */
  const broker = (): string =>
    several ? `${client.options.protocol}://${client.options.host}:${client.options.port}` : config.mqtt.url;

  let closing = false;
  let ended = false;
  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  const window = createWindow(client, log, () => closing);
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let fail: (err: AppError) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined); // observed by whoever runs the service
  let connectedAt = 0;
  let markStopping: () => void = () => {};
  const stopping = new Promise<void>((resolve) => (markStopping = resolve));
  /** Resolves when the client is connected (now, or at the next CONNACK). */
  const connected = (): Promise<void> =>
    client.connected ? Promise.resolve() : new Promise((resolve) => client.once('connect', () => resolve()));
  let takeovers = 0;
  const status = statusTopic(config.topics, config.service);
  /** What `consume` subscribed to, once it first succeeded; kept in place across sessions. */
  let consumed: readonly string[] | undefined;
  let subscribed = false;

  /** A connection is being made: from a connect or reconnect until its CONNACK or its close. */
  let dialling = true;
  client.on('connect', (connack) => {
    dialling = false;
    // Nagle's algorithm costs 20–35 ms per QoS 1 hop; turn it off on every new socket.
    (client.stream as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    connectedAt = Date.now();
    log.info({ url: broker(), sessionPresent: connack.sessionPresent }, 'connected to broker');
    markReady();
    if (closing) return; // a CONNACK that raced our end(): nothing more to send on it
    if (consumed) {
      // A broker without our session (it lost it, or a clean-session client with our id wiped
      // it) has no subscriptions for us: make them again before counting ourselves healthy.
      if (connack.sessionPresent) subscribed = true;
      else void resubscribe(consumed);
    }
    if (announce)
      client.publish(status, statusPayload(config.service, 'online'), { qos: 1, retain: true }, (err) => {
        if (err && !closing) log.warn({ err: toAppError(err) }, 'could not publish online status');
      });
  });
  client.on('close', () => {
    dialling = false;
    subscribed = false;
    window.dropped();
    if (closing) return;
    const lived = connectedAt ? Date.now() - connectedAt : -1;
    connectedAt = 0;
    if (lived >= TAKEOVER_WINDOW_MS) {
      attempt = 0;
      takeovers = 0;
    } else if (lived >= 0 && ++takeovers >= SUSPECT_TAKEOVERS) {
      const clientId = config.mqtt.clientId;
      if (takeovers >= MAX_TAKEOVERS) {
        const err = new AppError('CLIENT_ID_IN_USE', `client id ${clientId} is in use by another process; giving up`);
        log.fatal({ clientId, takeovers }, err.message);
        closing = ended = true;
        client.end(true);
        return fail(err);
      }
      log.error(
        { clientId, takeovers },
        `the broker keeps closing our connections: another process is probably using client id ${clientId}`,
      );
    }
    const delay = backoffDelay(attempt++, config.mqtt.reconnectMinMs, config.mqtt.reconnectMaxMs);
    log.warn({ attempt, delayMs: delay }, 'broker connection down; reconnecting');
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => {
      // Keep MQTT.js's message stores: a bare reconnect() starts empty ones, which silently
      // drops the QoS 1 publishes still awaiting PUBACK (their callbacks never fire).
      if (closing) return;
      dialling = true;
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  });
  client.on('error', (err) =>
    log.warn({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'broker connection error'),
  );

  /** When the refusals in a row began (none since the last subscription granted). */
  let refusedSince: number | undefined;
  let refusals = 0;
  /** How long to wait before asking again after a refusal, or undefined once it counts. */
  function askAgainIn(topics: readonly string[]): number | undefined {
    refusedSince ??= Date.now();
    if (Date.now() - refusedSince >= (opts.refusalGraceMs ?? 0)) return undefined;
    const delayMs = backoffDelay(refusals++, 250, 2000);
    log.warn({ topics, delayMs }, 'the broker refused the subscriptions; asking again');
    return delayMs;
  }
  const granted = (): void => {
    refusedSince = undefined;
    refusals = 0;
  };

  async function resubscribe(topics: readonly string[]): Promise<void> {
    log.warn({ topics }, 'the broker has no session for us; subscribing again');
    try {
      await client.subscribeAsync([...topics], { qos: 1 });
      granted();
      if (client.connected) subscribed = true;
      log.info({ topics }, 'subscribed again');
    } catch (err) {
      const again = isRefusal(err) ? askAgainIn(topics) : undefined;
      if (again !== undefined) {
        // On this connection still: the next CONNACK would try again anyway.
        const stream = client.stream;
        setTimeout(() => {
          if (!closing && client.connected && client.stream === stream) void resubscribe(topics);
        }, again);
        return;
      }
      if (isRefusal(err)) {
        const e = new AppError('NOT_AUTHORIZED', `broker refused the subscriptions ${topics.join(', ')}`, {
          cause: err,
        });
        log.fatal({ err: e }, e.message);
        closing = ended = true;
        client.end(true);
        return fail(e);
      }
      // Cut short by a dropped connection: the next CONNACK tries again.
      log.warn({ err: toAppError(err), topics }, 'subscribe interrupted; trying again once reconnected');
    }
  }

  client.handleMessage = (packet, done) => window.take(packet, done);

  log.info({ url: config.mqtt.url, clientId: config.mqtt.clientId }, 'connecting to broker');
  client.connect();

  return {
    config,
    ready,
    failed,
    isConnected: () => client.connected,
    broker,
    isSubscribed: () => subscribed && client.connected,
    isClosing: () => closing,
    send(topic, payload, opts, done) {
      client.publish(topic, payload, { qos: 1, retain: opts.retain }, (err) => done(err));
    },
    onConnection(listener) {
      const up = (connack: { sessionPresent: boolean }) => listener(true, connack.sessionPresent);
      const down = () => listener(false, false);
      client.on('connect', up);
      client.on('close', down);
      return () => {
        client.off('connect', up);
        client.off('close', down);
      };
    },
    inFlight: () => window.held(),
    async consume(topics, handler, opts = {}) {
      window.open(handler, opts.maxInFlight ?? 1, opts.batchesInProgress ?? 1);
      for (;;) {
        await Promise.race([connected(), failed, stopping]);
        if (closing) throw new AppError('BROKER_UNAVAILABLE', 'stopped before the subscriptions were made');
        try {
          await client.subscribeAsync([...topics], { qos: 1 });
          granted();
          consumed = topics;
          subscribed = client.connected;
          break;
        } catch (err) {
          // A SUBACK that refuses a filter (0x80) means this account may not read it (past the
          // refusal grace); a subscribe cut short by a dropped connection is simply tried again.
          const again = isRefusal(err) ? askAgainIn(topics) : undefined;
          if (again !== undefined) {
            await Promise.race([sleep(again), stopping]);
            continue;
          }
          if (isRefusal(err)) {
            throw new AppError('NOT_AUTHORIZED', `broker refused the subscriptions ${topics.join(', ')}`, {
              cause: err,
            });
          }
          if (closing) throw toAppError(err, 'BROKER_UNAVAILABLE');
          log.warn({ err: toAppError(err), topics }, 'subscribe interrupted; trying again once reconnected');
        }
      }
      log.info({ topics }, 'subscribed');
    },
    async pause() {
      closing = true;
      markStopping();
      clearTimeout(reconnectTimer);
      await window.settled();
    },
    async close(budgetMs = config.shutdownTimeoutMs) {
      if (ended) return;
      ended = true;
      const deadline = Date.now() + budgetMs;
      const left = () => Math.max(1, deadline - Date.now());
      await this.pause();
      if (client.connected && announce) {
        try {
          await withTimeout(
            client.publishAsync(status, statusPayload(config.service, 'offline'), { qos: 1, retain: true }),
            left(),
            'publishing offline status',
          );
        } catch (err) {
          log.warn({ err: toAppError(err) }, 'could not publish offline status');
        }
      }
      // A graceful end waits for our in-flight publishes; past the budget, cut the connection
      // (what was not acknowledged is still in the outbox, or redelivered by the broker).
      // Without a connection, nor one being made (pause stopped the retries), no PUBACK can come:
      // MQTT.js would wait for them until the budget is spent.
      if (!client.connected && !dialling) await client.endAsync(true);
      else await withTimeout(client.endAsync(false), left(), 'disconnecting').catch(() => client.endAsync(true));
      log.info('disconnected from broker');
    },
  };
}

/**
 * MQTT.js's side of our acknowledgements. Its handleMessage callback sends the PUBACK and only
 * then reads the next packet; called with an error, it sends nothing and reads on (publish.js,
 * `client.handleMessage(packet, (err) => …)`), which is how several messages stay in flight on
 * one connection. The PUBACK goes out later through the client's own packet path, as MQTT.js
 * would have sent it. bus.test.ts pins both behaviours for the MQTT.js version we depend on.
 */
type Readable = (err?: Error) => void;
const ACKNOWLEDGED_LATER = new Error('acknowledged after its batch is committed');
interface MqttInternals {
  _sendPacket(packet: { cmd: 'puback'; messageId: number }): void;
}

interface Held extends Delivery {
  /** The socket it came on: an acknowledgement belongs to that connection only. */
  readonly stream: unknown;
}

/**
 * The messages a consumer holds: taken from MQTT.js as they come, handed to the handler in
 * batches (whatever waits when the previous batch is done), acknowledged in arrival order after
 * their batch. Past `max` held, MQTT.js reads no more until a batch is acknowledged: the TCP
 * window then holds the broker back (aedes has no in-flight limit of its own).
 */
function createWindow(client: MqttClient, log: Logger, isClosing: () => boolean) {
  let handler: BatchHandler | undefined;
  let max = 1;
  let waiting: Held[] = [];
  /** Held on the current connection: waiting, in a batch, or committed and not yet acknowledged. */
  let held = 0;
  /** MQTT.js's callback, kept while `max` are held: calling it reads on. */
  let resume: (() => void) | undefined;
  let scheduled = false;
  /** Batches handed to the handler, oldest first; each is acknowledged only after those before it. */
  const inProgress: Array<{ taken: Held[]; outcome?: 'ok' | 'failed'; settled: Promise<void> }> = [];
  let overlap = 1;

  function acknowledge(done: readonly Held[]): void {
    for (const d of done) {
      // An id of a dead connection may name another message on this one: never send it here.
      if (d.stream !== client.stream || !client.connected) continue;
      held--;
      if (d.packet.qos > 0 && d.packet.messageId !== undefined) {
        (client as unknown as MqttInternals)._sendPacket({ cmd: 'puback', messageId: d.packet.messageId });
      }
    }
    if (held < max) readOn();
  }

  /** Let MQTT.js read the next packet, if it was held back at `max`. */
  function readOn(): void {
    const r = resume;
    resume = undefined;
    r?.();
  }

  /** The connection of a batch that failed: nothing after it on that connection is acknowledged. */
  let failedOn: unknown;

  /**
   * Acknowledge the finished batches at the head, in order [MQTT-4.6.0-2]. After a failed batch,
   * the ones behind it on its connection are left unacknowledged too (redelivered with it), or
   * a later message would be acknowledged before an earlier one.
   */
  function acknowledgeInOrder(): void {
    while (inProgress[0]?.outcome !== undefined) {
      const head = inProgress.shift()!;
      const stream = head.taken[0]?.stream;
      if (head.outcome === 'failed') failedOn = stream;
      else if (stream !== failedOn) acknowledge(head.taken);
    }
  }

  function schedule(): void {
    if (scheduled || inProgress.length >= overlap || waiting.length === 0) return;
    scheduled = true;
    // After the packets already read are taken (MQTT.js hands them over on process.nextTick).
    setImmediate(run);
  }

  function run(): void {
    scheduled = false;
    // Once stopping, what waits is left to the broker: no batch starts after pause() returned.
    const handle = handler;
    if (!handle || waiting.length === 0 || isClosing() || inProgress.length >= overlap) return;
    const taken = waiting;
    waiting = [];
    const entry: (typeof inProgress)[number] = { taken, settled: Promise.resolve() };
    inProgress.push(entry);
    // A handler that throws instead of rejecting fails its batch the same way.
    entry.settled = Promise.resolve()
      .then(() => handle(taken))
      .then(
        () => {
          entry.outcome = 'ok';
        },
        (err: unknown) => {
          entry.outcome = 'failed';
          // A handler only fails when it cannot finish (e.g. we are stopping). Without acks the
          // broker delivers the batch again after a reconnect; dropping the socket makes that now.
          if (isClosing() || taken[0]?.stream !== client.stream) return;
          log.error({ err: toAppError(err), messages: taken.length }, 'handler failed; forcing redelivery');
          client.stream.destroy();
        },
      )
      .finally(() => {
        acknowledgeInOrder();
        if (!isClosing()) schedule();
      });
  }

  return {
    open(h: BatchHandler, maxInFlight: number, batchesInProgress: number) {
      handler = h;
      max = Math.max(1, maxInFlight);
      overlap = Math.max(1, batchesInProgress);
      // What our session delivered before we were ready has waited for this.
      schedule();
      if (held < max) readOn();
    },
    take(packet: IPublishPacket, done: Readable): void {
      // Stopping, or a packet of a connection already lost: left unacknowledged (the broker
      // delivers it to our next session) and uncounted, and MQTT.js reads on, so the PUBACKs of
      // our own publishes still come in.
      if (isClosing() || !client.connected) return done(ACKNOWLEDGED_LATER);
      // Before `consume`, a persistent session's queued messages are held for it, never acknowledged unread.
      waiting.push({ topic: packet.topic, payload: packet.payload as Buffer, packet, stream: client.stream });
      held++;
      if (held < max) done(ACKNOWLEDGED_LATER);
      else resume = () => done(ACKNOWLEDGED_LATER);
      schedule();
    },
    /** The connection is gone: what waits is dropped (the broker has it for our next session). */
    dropped(): void {
      waiting = [];
      held = 0;
      readOn();
    },
    held: () => held,
    /** Resolves once the batches in hand (if any) are handled and acknowledged. */
    settled: () => Promise.all(inProgress.map((e) => e.settled)).then(() => undefined),
  };
}
