import { z } from 'zod';
import { parseJson, parseTopic, SERVICES, storeFilter } from '@spectrum-grocers/contract';
import {
  createSseHub,
  loadProductCatalog,
  route,
  textRoute,
  type HttpRoute,
  type ServiceContext,
} from '@spectrum-grocers/runtime';
import { stockState } from '@spectrum-grocers/inventory-intel/stock';
import { assetRoutes } from './assets.js';
import { createLedger } from './ledger.js';
import { CONTROL_ROOM_PAGE, CONTROL_ROOM_SCRIPT, CONTROL_ROOM_STYLE } from './page.js';
import { createRates } from './rates.js';
import { createSeries } from './series.js';
import { createTraceRoute } from './trace.js';

/** How many of each the page lists, newest first. */
const RECENT = { payments: 10, restockAlerts: 8, deliveries: 8, deadLetters: 8 } as const;

/** What the page shows of a status message, read leniently: whatever a publisher put there, as text. */
const StatusHead = z.object({ status: z.coerce.string(), timestamp: z.coerce.string() });

/** What GET /api/state answers, as the OpenAPI document shows it (each list's items as the page reads them). */
const StateBody = z.looseObject({
  store: z.string(),
  broker: z.string().describe('up or down'),
  services: z.array(z.looseObject({ service: z.string(), status: z.string() })),
  events: z.int().nonnegative(),
});

/** Handles one message on the store's topics; what it made of it, for the metrics. */
type Observe = (topic: string, payload: Buffer) => 'handled' | 'duplicate' | 'ignored';

export interface ControlRoom {
  readonly observe: Observe;
  /** The dashboard, its style and script, its live feed (GET /events), its state and traces. */
  readonly routes: readonly HttpRoute[];
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
  const ledger = createLedger(db, loadProductCatalog(config.catalogFile), config.maxPayloadBytes);
  const rates = createRates(10);
  const series = createSeries();
  const statuses = new Map<string, { status: string; timestamp: string }>();
  const snapshot = () => ({
    store: root.store,
    broker: bus.isConnected() ? 'up' : 'down',
    services: SERVICES.map((service) => ({ service, ...(statuses.get(service) ?? { status: 'unknown' }) })),
    rates: rates.perSecond().map((r) => ({ topic: r.key.slice(prefix.length), perSecond: r.perSecond })),
    series: series.read(),
    stock: ledger.stock().map((row) => ({ ...row, state: stockState(row) })),
    payments: ledger.payments(RECENT.payments),
    restockAlerts: ledger.restockAlerts(RECENT.restockAlerts),
    deliveries: ledger.deliveries(RECENT.deliveries),
    deadLetters: ledger.deadLetters(RECENT.deadLetters),
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
    series.add();
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
    routes: [
      textRoute('/', "The operator's dashboard", CONTROL_ROOM_PAGE, 'html'),
      textRoute('/control-room.css', "The dashboard's stylesheet", CONTROL_ROOM_STYLE, 'css'),
      textRoute('/control-room.js', "The dashboard's script", CONTROL_ROOM_SCRIPT, 'js'),
      hub.route('/events', 'The state of the store every second (Server-Sent Events)'),
      route({
        method: 'GET',
        path: '/api/state',
        summary: 'The state of the store: services, broker, event rates, stock, payments, dead letters',
        responses: { 200: StateBody },
        handler: () => ({ status: 200, body: snapshot() }),
      }),
      createTraceRoute(ledger),
      ...assetRoutes(),
    ],
    health: () => ({ events: ledger.eventCount() }),
    close() {
      clearInterval(ticker);
      hub.close();
    },
  };
}
