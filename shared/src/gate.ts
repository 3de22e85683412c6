import { z } from 'zod';
import type { Bus } from './bus.js';
import { loadConfig } from './config.js';
import { toAppError } from './errors.js';
import type { HttpReply, Route } from './http.js';
import { newEventId } from './ids.js';
import type { Logger } from './logger.js';
import { validateEvent } from './parse.js';
import { createLogger } from './logger.js';
import { startPublishingService } from './service.js';
import { untilSignal } from './lifecycle.js';
import { sleep } from './timers.js';
import { eventTopic, type Event, type EventName, type WireEvent } from './topics.js';

/** The events a gate emits for a scan. */
export type ScanEvent = Extract<EventName, 'customer-arrival' | 'customer-departure'>;

/**
 * Publish one scan at QoS 1 and wait for the broker's PUBACK. Nothing is queued while the
 * broker is away: the caller hears so at once and can retry with the same `event_id`.
 */
export async function publishScan<E extends ScanEvent>(bus: Bus, event: E, scan: Event<E>): Promise<void> {
  if (!bus.isConnected()) throw toAppError(new Error('not connected to the broker'), 'BROKER_UNAVAILABLE');
  await bus.publish(eventTopic(bus.config.topics, event), JSON.stringify(scan));
}

/**
 * `POST /scans` for a real sensor: the body is the event without (or with) `timestamp` and
 * `event_id`; it is validated by the event's schema. 202 with the `event_id` once the broker
 * has it, 400 naming the bad field, 503 (with the id to retry with) while the broker is away.
 */
export function createScanRoute<E extends ScanEvent>(
  bus: Bus,
  event: E,
  log: Logger,
  clock: () => Date = () => new Date(),
): Route {
  return async (body): Promise<HttpReply> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { status: 400, body: { error: 'body must be a JSON object' } };
    }
    const parsed = validateEvent(event, { timestamp: clock().toISOString(), ...body }, newEventId);
    if (!parsed.ok) return { status: 400, body: { error: parsed.reason } };
    try {
      await publishScan(bus, event, parsed.value);
    } catch (err) {
      const e = toAppError(err, 'BROKER_UNAVAILABLE');
      log.warn({ err: e, eventId: parsed.value.event_id }, 'scan not published');
      return {
        status: 503,
        body: { error: e.message, event_id: parsed.value.event_id },
        headers: { 'retry-after': '1' },
      };
    }
    log.info({ event, eventId: parsed.value.event_id }, 'scan accepted');
    return { status: 202, body: { event_id: parsed.value.event_id } };
  };
}

export interface SimulationOptions<E extends ScanEvent> {
  bus: Bus;
  event: E;
  log: Logger;
  /** Seconds between scans, drawn uniformly from [min, max] as in the original (2–20 s). */
  intervalS: { min: number; max: number };
  generate: (now: Date) => WireEvent<E>;
  signal: AbortSignal;
}

/** The simulated sensor: a scan every few seconds until `signal` aborts. */
export async function runSimulation<E extends ScanEvent>(opts: SimulationOptions<E>): Promise<void> {
  const { bus, event, log, intervalS, signal } = opts;
  await Promise.race([bus.ready, new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
  const topic = eventTopic(bus.config.topics, event);
  while (!signal.aborted) {
    const scan = { ...opts.generate(new Date()), event_id: newEventId() } as Event<E>;
    try {
      await publishScan(bus, event, scan);
      log.info({ topic, scan }, `Pub to ${topic}`);
    } catch (err) {
      log.warn({ err: toAppError(err) }, 'simulated scan not published');
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

export interface GateSpec<E extends ScanEvent, O extends typeof GateEnv> {
  service: string;
  event: E;
  env: O;
  defaultHttpPort: number;
  /** One simulated scan from the gate's options. */
  generate: (now: Date, options: Readonly<z.output<O>>) => WireEvent<E>;
}

/**
 * A gate's whole life: config, connection, `POST /scans`, the simulated sensor (unless
 * SIMULATE=false), and a graceful stop on SIGTERM/SIGINT.
 */
export async function runGate<E extends ScanEvent, O extends typeof GateEnv>(
  spec: GateSpec<E, O>,
  onStopping: () => void,
): Promise<void> {
  const config = loadConfig(spec.service, { options: spec.env, defaultHttpPort: spec.defaultHttpPort });
  const log = createLogger(config);
  const o = config.options;
  const service = await startPublishingService(config, log, {
    httpRoutes: (bus) => ({ 'POST /scans': createScanRoute(bus, spec.event, log) }),
  });
  const stopSimulation = new AbortController();
  const simulation = o.SIMULATE
    ? runSimulation({
        bus: service.bus,
        event: spec.event,
        log,
        intervalS: { min: o.SCAN_INTERVAL_MIN_S, max: o.SCAN_INTERVAL_MAX_S },
        generate: (now) => spec.generate(now, o),
        signal: stopSimulation.signal,
      })
    : Promise.resolve();
  try {
    await untilSignal(log, { exitOnStdinClose: config.exitOnStdinClose });
  } finally {
    onStopping();
    stopSimulation.abort();
    await simulation;
    await service.stop();
  }
}
