import { z } from 'zod';
import { parseJson, parseTopic, SERVICES, storeFilter } from '@spectrum-grocers/contract';
import {
  createSseHub,
  loadProductCatalog,
  textRoute,
  type Route,
  type ServiceContext,
  type StreamRoute,
} from '@spectrum-grocers/runtime';
import { createLedger } from './ledger.js';
import { CONTROL_ROOM_PAGE, CONTROL_ROOM_SCRIPT, CONTROL_ROOM_STYLE } from './page.js';
import { createRates } from './rates.js';
import { createTraceRoute } from './trace.js';

const RECENT_PAYMENTS = 10;

/** What the page shows of a status message, read leniently: whatever a publisher put there, as text. */
const StatusHead = z.object({ status: z.coerce.string(), timestamp: z.coerce.string() });

/** Handles one message on the store's topics; what it made of it, for the metrics. */
type Observe = (topic: string, payload: Buffer) => 'handled' | 'duplicate' | 'ignored';

export interface ControlRoom {
  readonly observe: Observe;
  readonly routes: Record<string, Route>;
  readonly streams: Record<string, StreamRoute>;
  health(): Record<string, unknown>;
  close(): void;
}

/**
 * The operator's view of one store: every event with its cause (the ledger), the stock the
 * events imply, each service's status and the event rates, served as a live dashboard.
 */
export function createControlRoom({
  db,
  config,
  log,
  bus,
}: Pick<ServiceContext, 'db' | 'config' | 'log' | 'bus'>): ControlRoom {
  const root = config.topics;
  const prefix = storeFilter(root).slice(0, -'#'.length);
  const ledger = createLedger(db, loadProductCatalog(), config.maxPayloadBytes);
  const rates = createRates(10);
  const statuses = new Map<string, { status: string; timestamp: string }>();
  const snapshot = () => ({
    store: root.store,
    broker: bus.isConnected() ? 'up' : 'down',
    services: SERVICES.map((service) => ({ service, ...(statuses.get(service) ?? { status: 'unknown' }) })),
    rates: rates.perSecond().map((r) => ({ topic: r.key.slice(prefix.length), perSecond: r.perSecond })),
    stock: ledger.stock(),
    payments: ledger.recentPayments(RECENT_PAYMENTS),
    deadLetters: ledger.deadLetters(),
    events: ledger.eventCount(),
  });
  const hub = createSseHub(() => [{ event: 'state', data: snapshot() }]);
  const ticker = setInterval(() => {
    if (hub.size() > 0) hub.send('state', snapshot());
  }, 1000);
  ticker.unref();

  const observe: Observe = (topic, payload) => {
    const kind = parseTopic(root, topic);
    rates.add(topic);
    switch (kind.kind) {
      case 'status': {
        const json = parseJson(payload);
        const status = json.ok ? StatusHead.safeParse(json.value) : undefined;
        if (!status?.success) {
          log.warn({ topic }, 'unreadable status message');
          return 'ignored';
        }
        statuses.set(kind.service, { status: status.data.status, timestamp: status.data.timestamp });
        return 'handled';
      }
      case 'event':
      case 'dead-letter':
        return ledger.record(kind, topic, payload) ? 'handled' : 'duplicate';
      case 'other':
        return 'ignored';
    }
  };

  return {
    observe,
    routes: {
      'GET /': textRoute(CONTROL_ROOM_PAGE, 'html'),
      'GET /control-room.css': textRoute(CONTROL_ROOM_STYLE, 'css'),
      'GET /control-room.js': textRoute(CONTROL_ROOM_SCRIPT, 'js'),
      'GET /api/state': () => ({ status: 200, body: snapshot() }),
      'GET /api/trace': createTraceRoute(ledger),
    },
    streams: { '/events': hub.route },
    health: () => ({ events: ledger.eventCount() }),
    close() {
      clearInterval(ticker);
      hub.close();
    },
  };
}
