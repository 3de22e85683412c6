import { downlinkTopics, parseTopic, toAppError, UPLINK, uplinkFilters } from '@spectrum-grocers/contract';
import {
  connectBus,
  entryPackageVersion,
  startHttpServer,
  type Bus,
  type HttpServer,
  type Logger,
} from '@spectrum-grocers/runtime';
import { hqBusConfig, type UplinkConfig } from './config.js';
import { openLink, type Link } from './direction.js';
import { createUplinkMetrics, type Direction } from './metrics.js';

type Side = 'store' | 'hq';

/**
 * A NATS node can refuse a QoS 1 subscription (SUBACK 0x80) right after a failover, while its
 * leaders are elected; a failover settles within ~15 s. Asked again for this long before it counts.
 */
const HQ_REFUSAL_GRACE_MS = 30_000;

export interface UplinkHealth {
  ok: boolean;
  detail: {
    service: string;
    connected: boolean;
    subscribed: boolean;
    /** The sides not connected, or connected without their subscriptions. */
    unavailable: Side[];
    store: SideHealth;
    hq: SideHealth;
    /** Messages waiting to be acknowledged where they go, each way. */
    backlog: Record<Direction, number>;
  };
}

interface SideHealth {
  broker: string;
  connected: boolean;
  subscribed: boolean;
}

export interface RunningUplink {
  readonly http: HttpServer;
  /** Rejects when the uplink cannot go on: a broker refused it for good, or a disk failed. */
  readonly failed: Promise<never>;
  health(): UplinkHealth;
  /** Stop taking, finish the batches in hand, publish what it can in the budget, disconnect. */
  stop(): Promise<void>;
}

/** A broker URL fit to show: without a password someone may have put in it. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

function sideHealth(bus: Bus): SideHealth {
  return { broker: shown(bus.broker()), connected: bus.isConnected(), subscribed: bus.isSubscribed() };
}

/**
 * The store's link to HQ: two connections (the store's broker, HQ's), and each way a forwarder
 * committing what it reads to an outbox that publishes on the other side. Nothing it sends up is
 * a topic it reads from HQ, nor the other way round (uplinkFilters, downlinkTopics): no loops.
 */
export async function startUplink(config: UplinkConfig, log: Logger): Promise<RunningUplink> {
  const root = config.topics;
  const store = connectBus(config, log.child({ side: 'store' }));
  const hqConfig = hqBusConfig(config);
  const hq = connectBus(hqConfig.config, log.child({ side: 'hq' }), {
    servers: hqConfig.servers,
    refusalGraceMs: HQ_REFUSAL_GRACE_MS,
  });
  const links: Partial<Record<Direction, Link>> = {};
  const backlog = (d: Direction) => links[d]?.backlog() ?? 0;
  const metrics = createUplinkMetrics(UPLINK, { store, hq, backlog });
  // Statuses are retained by definition: the flag they arrive with cannot tell.
  const retain = (topic: string) => parseTopic(root, topic).kind === 'status';
  /** Undo a start that failed half-way (a DATA_DIR in use, a port taken). */
  const closeAll = async (): Promise<void> => {
    await Promise.all([store.pause(), hq.pause()]);
    await Promise.all([store.close(), hq.close()]);
    await Promise.all(Object.values(links).map((l) => l.close()));
  };
  try {
    links.up = openLink({
      config,
      direction: 'up',
      from: store,
      to: hq,
      log: log.child({ direction: 'up' }),
      metrics,
      retain,
    });
    links.down = openLink({
      config,
      direction: 'down',
      from: hq,
      to: store,
      log: log.child({ direction: 'down' }),
      metrics,
      retain,
    });
  } catch (err) {
    await closeAll();
    throw err;
  }
  const { up, down } = links as Record<Direction, Link>;

  function health(): UplinkHealth {
    const sides = { store: sideHealth(store), hq: sideHealth(hq) };
    const unavailable = (['store', 'hq'] as const).filter((s) => !sides[s].connected || !sides[s].subscribed);
    return {
      ok: unavailable.length === 0 && !store.isClosing(),
      detail: {
        service: UPLINK,
        connected: sides.store.connected && sides.hq.connected,
        subscribed: sides.store.subscribed && sides.hq.subscribed,
        unavailable,
        ...sides,
        backlog: { up: up.backlog(), down: down.backlog() },
      },
    };
  }

  const http = await startHttpServer(config, log, {
    title: UPLINK,
    version: entryPackageVersion(),
    routes: [metrics.route],
    healthy: health,
  }).catch(async (err: unknown) => {
    await closeAll();
    throw err;
  });

  let stopAsked = false;
  let fail: (err: unknown) => void = () => undefined;
  const refused = new Promise<never>((_, reject) => (fail = reject));
  const failed = Promise.race([store.failed, hq.failed, up.failed, down.failed, refused]);
  failed.catch(() => undefined); // observed by main
  // Each side subscribes on its own: with HQ down, the store's messages are still taken and
  // committed, to go up once HQ is back.
  for (const [link, filters] of [
    [up, uplinkFilters(root)],
    [down, downlinkTopics(root)],
  ] as const) {
    link.start(filters).then(
      () => log.info({ direction: link.direction, filters }, 'forwarding'),
      (err: unknown) => {
        // A stop while waiting for a broker ends the wait; anything else (a refused
        // subscription) is for good.
        if (!stopAsked) fail(toAppError(err));
      },
    );
  }

  return {
    http,
    failed,
    health,
    async stop() {
      stopAsked = true;
      const deadline = Date.now() + config.shutdownTimeoutMs;
      const left = () => Math.max(1, deadline - Date.now());
      await http.close(config.shutdownTimeoutMs / 4);
      await Promise.all([store.pause(), hq.pause()]);
      // What is committed goes out now if it can (at most half the budget); the rest stays in
      // the outboxes for the next start.
      const drained = await Promise.all([up.drain(left() / 2), down.drain(left() / 2)]);
      if (!drained.every(Boolean)) log.warn({ backlog: health().detail.backlog }, 'not all forwarded before stopping');
      await Promise.all([store.close(left()), hq.close(left())]);
      await Promise.all([up.close(), down.close()]);
    },
  };
}
