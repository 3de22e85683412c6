import {
  AppError,
  connectBus,
  createLogger,
  createMetrics,
  createSseHub,
  loadConfig,
  loadProductCatalog,
  openDatabase,
  runMain,
  SERVICES,
  startHttpServer,
  textRoute,
  untilSignal,
  type MessageHandler,
} from '@spectrum-grocers/shared';
import { classify, createLedger, SCHEMA } from './ledger.js';
import { CONTROL_ROOM_PAGE, CONTROL_ROOM_SCRIPT, CONTROL_ROOM_STYLE } from './page.js';
import { createRates } from './rates.js';
import { createTraceRoute } from './trace.js';

const SERVICE = 'control-room';
const RECENT_PAYMENTS = 10;

/**
 * The operator's view: reads everything under the store's topics with the read-only observer
 * account, keeps every event with its cause in SQLite, and serves a live dashboard.
 */
runMain(SERVICE, async (onStopping) => {
  const config = loadConfig(SERVICE, { defaultHttpPort: 8086 });
  const log = createLogger(config);
  const signalled = untilSignal(log, { exitOnStdinClose: config.exitOnStdinClose, dataDir: config.dataDir });
  const root = config.topics;
  const prefix = `${root.chain}/${root.store}/`;
  const db = openDatabase(config, SCHEMA);
  const ledger = createLedger(db, loadProductCatalog(), config.maxPayloadBytes);
  // Read-only: no status of our own, no last will.
  const bus = connectBus(config, log, { announce: false });
  const metrics = createMetrics(SERVICE, { bus });
  const rates = createRates(10);
  const statuses = new Map<string, { status: string; timestamp: string }>();
  let subscribed = false;

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

  const onMessage: MessageHandler = (topic, payload) => {
    const kind = classify(root, topic);
    rates.add(topic);
    let outcome: 'handled' | 'duplicate' | 'ignored' = 'ignored';
    if (kind.kind === 'status') {
      try {
        const s = JSON.parse(payload.toString('utf8')) as { status?: unknown; timestamp?: unknown };
        statuses.set(kind.service, { status: String(s.status), timestamp: String(s.timestamp) });
        outcome = 'handled';
      } catch {
        log.warn({ topic }, 'unreadable status message');
      }
    } else if (kind.kind !== 'other') {
      outcome = ledger.record(kind, topic, payload) ? 'handled' : 'duplicate';
    }
    metrics.eventsIn.inc({ topic, outcome });
    return Promise.resolve();
  };

  const http = await startHttpServer(config, log, {
    routes: {
      'GET /': textRoute(CONTROL_ROOM_PAGE, 'html'),
      'GET /control-room.css': textRoute(CONTROL_ROOM_STYLE, 'css'),
      'GET /control-room.js': textRoute(CONTROL_ROOM_SCRIPT, 'js'),
      'GET /api/state': () => ({ status: 200, body: snapshot() }),
      'GET /api/trace': createTraceRoute(ledger),
      'GET /metrics': metrics.route,
    },
    streams: { '/events': hub.route },
    healthy: () => ({
      ok: bus.isConnected() && subscribed && !bus.isClosing(),
      detail: { service: SERVICE, connected: bus.isConnected(), events: ledger.eventCount() },
    }),
  }).catch(async (err: unknown) => {
    await bus.close();
    db.close();
    throw err;
  });

  const stop = async () => {
    onStopping();
    clearInterval(ticker);
    hub.close();
    await http.close();
    await bus.close();
    db.close();
  };
  void signalled.then(() => bus.pause());
  try {
    await Promise.race([bus.consume([`${prefix}#`], onMessage), bus.failed]);
    subscribed = true;
  } catch (err) {
    await stop();
    if (bus.isClosing() && !(err instanceof AppError && err.code === 'NOT_AUTHORIZED')) return;
    throw err;
  }
  try {
    await Promise.race([signalled, bus.failed]);
  } finally {
    await stop();
  }
});
