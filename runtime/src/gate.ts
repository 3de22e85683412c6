import { z } from 'zod';
import {
  AppError,
  eventTopic,
  newEventId,
  schemas,
  toAppError,
  type Event,
  type EventMessage,
  type EventName,
  type PublishedBy,
  type ServiceName,
  type TopicRoot,
  type WireEvent,
} from '@spectrum-grocers/contract';
import type { Committer } from './commit.js';
import { eventLines } from './event-lines.js';
import type { Logger } from './logger.js';
import type { Outbox } from './outbox.js';
import { counted, shortId } from './pretty.js';
import { ErrorBody, route, type HttpRoute } from './routes.js';
import type { ServiceSpec } from './service.js';
import { OUTBOX_BY_EVENT_ID } from './store.js';
import { sleep } from './timers.js';

/** The events a gate emits for a scan. */
export type ScanEvent = Extract<EventName, 'customer-arrival' | 'customer-departure'>;

export interface ScanStore {
  outbox: Outbox;
  topics: TopicRoot;
  /** Scans arriving together share one transaction and one sync. */
  commits: Committer;
}

/**
 * Store one scan in the gate's outbox, in the caller's transaction; the relay publishes it at
 * QoS 1 once it is on disk, now or whenever the broker is back. The same `event_id` twice is
 * stored once, so a sensor retrying a scan cannot make two customers of one. Returns whether it
 * was new.
 */
function storeScan<E extends ScanEvent>(store: ScanStore, event: E, scan: Event<E>): boolean {
  return store.outbox.emit([{ event, payload: scan } as unknown as EventMessage]) === 1;
}

/** What became of a posted scan: stored now, stored already (the same scan), or refused (another scan has its id). */
type Stored = 'new' | 'repeated' | 'conflict';

/** A scan as a person reads it in the log: `departure 1f3a9c2e customer 7: 3 items scanned`. */
export function scanLine(scan: Event<ScanEvent>, result: string): string {
  const who = `${shortId(scan.event_id)} customer ${scan.customer_id}`;
  if (!('product_ids' in scan)) return `arrival ${who}: ${result}`;
  return `departure ${who}: ${counted(scan.product_ids.length, 'item')} ${result}`;
}

/** JSON with every object's keys sorted, so that bodies differing only in key order compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Whether `scan`, whose `event_id` is stored already, says what the stored scan says.
 * Only what the sensor sent counts: a timestamp the gate filled from its clock differs on every
 * retry, so timestamps are compared only when the sensor sent one.
 */
function sameAsStored<E extends ScanEvent>(
  store: ScanStore,
  event: E,
  scan: Event<E>,
  sentTimestamp: boolean,
): boolean {
  const stored = store.outbox.get(scan.event_id);
  if (stored?.topic !== eventTopic(store.topics, event)) return false;
  const unsent = sentTimestamp ? {} : { timestamp: undefined };
  const before = { ...(JSON.parse(stored.payload) as object), ...unsent };
  return canonicalJson(before) === canonicalJson({ ...scan, ...unsent });
}

export interface ScanRouteOptions<E extends ScanEvent> {
  /** Fills the `timestamp` of a scan sent without one. */
  clock?: () => Date;
  /** Why a scan its schema accepts is refused all the same (400), or undefined to take it. */
  refuse?: (scan: Event<E>) => string | undefined;
}

/** What a sensor posts: the event, its `timestamp` and `event_id` optional (the gate fills them). */
const SCAN_BODIES = {
  'customer-arrival': schemas.CustomerArrival.partial({ timestamp: true }),
  'customer-departure': schemas.CustomerDeparture.partial({ timestamp: true }),
} as const satisfies Record<ScanEvent, z.ZodType>;

type ScanBody<E extends ScanEvent> = Omit<WireEvent<E>, 'timestamp'> & { timestamp?: string };

const Accepted = z.object({ event_id: schemas.EventId.describe('The stored scan’s event_id, sent or given') });
const Conflict = ErrorBody.extend({ event_id: schemas.EventId.describe('The event_id already stored') });

/**
 * `POST /scans` for a real sensor: the body is the event without (or with) `timestamp` and
 * `event_id`, validated by the event's schema. 202 with the `event_id` once the scan is stored
 * durably (it is published when the broker has it), 400 naming the bad field. A retry under the
 * same `event_id` is answered 202 again; a different scan under a stored `event_id` is 409,
 * since accepting it would silently drop it.
 */
export function createScanRoute<E extends ScanEvent>(
  store: ScanStore,
  event: E,
  log: Logger,
  { clock = () => new Date(), refuse }: ScanRouteOptions<E> = {},
): HttpRoute {
  if (!store.outbox.keyedByEventId) {
    throw new AppError('CONTRACT_MISMATCH', 'POST /scans needs OUTBOX_BY_EVENT_ID in the service schema');
  }
  const line = eventLines(log, 'scan');
  return route({
    method: 'POST',
    path: '/scans',
    summary: `One ${event} from the gate's sensor, answered once it is committed (published when the broker has it)`,
    description:
      'A retry under the same event_id is answered 202 again and stored once; a different scan under a stored event_id is 409.',
    body: SCAN_BODIES[event] as unknown as z.ZodType<ScanBody<E>>,
    responses: { 202: Accepted, 400: ErrorBody, 409: Conflict },
    handler: async ({ body }) => {
      const { event_id = newEventId(), timestamp = clock().toISOString(), ...rest } = body;
      const scan = { event_id, timestamp, ...rest } as Event<E>;
      const refusal = refuse?.(scan);
      if (refusal !== undefined) return { status: 400, body: { error: refusal } };
      // Answered once the commit holding it is on disk; scans posted meanwhile share that commit.
      const stored = await store.commits.run((): Stored => {
        if (storeScan(store, event, scan)) return 'new';
        return sameAsStored(store, event, scan, body.timestamp !== undefined) ? 'repeated' : 'conflict';
      });
      const isNew = stored === 'new';
      if (stored === 'conflict') {
        log.warn({ event, eventId: scan.event_id }, 'scan refused: its event_id belongs to a different scan');
        const error = `event_id ${scan.event_id} is already stored with a different scan: a retry must repeat its body, a new scan needs a new event_id`;
        return { status: 409, body: { error, event_id: scan.event_id } };
      }
      line(
        { event, eventId: scan.event_id, repeated: !isNew },
        scanLine(scan, isNew ? 'scanned' : 'scanned again; stored already'),
      );
      return { status: 202, body: { event_id: scan.event_id } };
    },
  });
}

export interface SimulationOptions<E extends ScanEvent> {
  store: ScanStore;
  event: E;
  log: Logger;
  /** Seconds between scans, drawn uniformly from [min, max] as in the original (2–20 s). */
  intervalS: { min: number; max: number };
  generate: (now: Date) => WireEvent<E>;
  signal: AbortSignal;
}

/** The simulated sensor: a scan every few seconds until `signal` aborts. */
export async function runSimulation<E extends ScanEvent>(opts: SimulationOptions<E>): Promise<void> {
  const { store, event, log, intervalS, signal } = opts;
  const topic = eventTopic(store.topics, event);
  while (!signal.aborted) {
    const scan = { ...opts.generate(new Date()), event_id: newEventId() } as Event<E>;
    try {
      await store.commits.run(() => storeScan(store, event, scan));
      log.info({ topic, scan }, scanLine(scan, 'scanned (simulated)'));
    } catch (err) {
      log.warn({ err: toAppError(err) }, 'simulated scan not recorded');
    }
    const waitS = intervalS.min + Math.random() * (intervalS.max - intervalS.min);
    await sleep(waitS * 1000, signal);
  }
}

/** The knobs both gates share. */
export const GateEnv = z
  .object({
    /** Simulate the sensor (random scans); turn off when a real sensor posts to /scans. */
    SIMULATE: z.stringbool().default(true),
    SCAN_INTERVAL_MIN_S: z.coerce.number().nonnegative().default(2),
    SCAN_INTERVAL_MAX_S: z.coerce.number().nonnegative().default(20),
    /** Simulated customers are 1..CUSTOMER_ID_MAX (the original's ten). */
    CUSTOMER_ID_MAX: z.coerce.number().int().positive().default(10),
  })
  .refine((o) => o.SCAN_INTERVAL_MIN_S <= o.SCAN_INTERVAL_MAX_S, {
    message: 'must not exceed SCAN_INTERVAL_MAX_S',
    path: ['SCAN_INTERVAL_MIN_S'],
  });

/** A random integer in [min, max], from a random source in [0, 1). */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export interface GateSpec<S extends ServiceName, E extends ScanEvent & PublishedBy<S>, O extends typeof GateEnv> {
  service: S;
  event: E;
  env: O;
  /** One simulated scan from the gate's options. */
  generate: (now: Date, options: Readonly<z.output<O>>) => WireEvent<E>;
  /** Why a posted scan its schema accepts is refused all the same (400), or undefined to take it. */
  refuse?: ScanRouteOptions<E>['refuse'];
}

/**
 * A gate as a service: its scan store, `POST /scans`, and the simulated sensor (unless
 * SIMULATE=false), on the one service lifecycle.
 */
export function gateService<S extends ServiceName, E extends ScanEvent & PublishedBy<S>, O extends typeof GateEnv>(
  spec: GateSpec<S, E, O>,
): ServiceSpec<S, O> {
  return {
    service: spec.service,
    env: spec.env,
    // A retried scan is stored once: the sensor's event_id is the key.
    schema: OUTBOX_BY_EVENT_ID,
    publishes: [spec.event] as ServiceSpec<S, O>['publishes'],
    http: ({ outbox, commits, config, log }) => [
      createScanRoute({ outbox, commits, topics: config.topics }, spec.event, log, { refuse: spec.refuse }),
    ],
    run: ({ outbox, commits, config, log }, signal) => {
      const o = config.options;
      if (!o.SIMULATE) return Promise.resolve();
      return runSimulation({
        store: { outbox, commits, topics: config.topics },
        event: spec.event,
        log,
        intervalS: { min: o.SCAN_INTERVAL_MIN_S, max: o.SCAN_INTERVAL_MAX_S },
        generate: (now) => spec.generate(now, o),
        signal,
      });
    },
  };
}
