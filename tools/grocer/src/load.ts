import { parseArgs } from 'node:util';
import { eventTopic, newEventId, type EventName } from '@spectrum-grocers/contract';
import { CommandError, CONNECTION_OPTIONS, connect, painter, settings, UsageError, type Io } from './io.js';

export const LOAD_HELP = `Usage: grocer load <departures|arrivals> --rate R --count N [options]

Publish N simulated scans at R a second (QoS 1) through the gates' topic, as the original
producer did with its amount and delay, with a progress bar and a summary.

  -r, --rate R        scans a second (default 10)
  -c, --count N       how many (default 100)
      --customers N   customers 1..N (default 10)
      --products N    products 1..N, 1-10 per basket (default 100)
      --url URL       broker (default: MQTT_URL, the running \`pnpm start\`, mqtt://localhost:1883)
  -u, --username U    with -p: connect as U (default: the gate's account)
  -p, --password P
  -h, --help`;

const KINDS: Record<string, { event: EventName; account: 'gateexit-guardian' | 'gateway-guardian' }> = {
  departures: { event: 'customer-departure', account: 'gateexit-guardian' },
  arrivals: { event: 'customer-arrival', account: 'gateway-guardian' },
};
const ACK_WAIT_MS = 30_000;

function positive(name: string, text: string | undefined, fallback: number, integer = true): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not ${text}`);
  }
  return n;
}

export async function load(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      rate: { type: 'string', short: 'r' },
      count: { type: 'string', short: 'c' },
      customers: { type: 'string' },
      products: { type: 'string' },
      ...CONNECTION_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return (void io.stdout.write(`${LOAD_HELP}\n`), 0);
  const kind = KINDS[positionals[0] ?? ''];
  if (!kind || positionals.length !== 1) throw new UsageError('load what? grocer load departures --rate R --count N');
  const rate = positive('rate', values.rate, 10, false);
  const count = positive('count', values.count, 100);
  const customers = positive('customers', values.customers, 10);
  const products = positive('products', values.products, 100);
  const s = settings(io, values);
  const client = await connect(s, kind.account);
  const topic = eventTopic(s.root, kind.event);
  const c = painter(io);
  const random = (n: number) => 1 + Math.floor(Math.random() * n);
  const scan = () => {
    const base = { event_id: newEventId(), timestamp: new Date().toISOString(), customer_id: random(customers) };
    if (kind.event === 'customer-arrival') return base;
    return { ...base, product_ids: Array.from({ length: random(10) }, () => random(products)) };
  };

  let sent = 0;
  let acked = 0;
  let failed = 0;
  const started = Date.now();
  const bar = () => {
    const width = 30;
    const done = Math.round((acked / count) * width);
    const elapsed = (Date.now() - started) / 1000;
    return `\r[${c.green('#'.repeat(done))}${' '.repeat(width - done)}] ${acked}/${count} acknowledged, ${sent} sent, ${(acked / Math.max(elapsed, 0.001)).toFixed(0)}/s `;
  };
  const progress = io.stderr.isTTY ? setInterval(() => io.stderr.write(bar()), 100) : undefined;
  let allAcked: () => void = () => {};
  const acknowledged = new Promise<void>((resolve) => (allAcked = resolve));
  let stopped = false;
  void io.interrupted.then(() => (stopped = true));
  // A broker that refuses a publish closes the connection: stop sending, and say so.
  let closed = false;
  let onClose = (): void => undefined;
  const lost = new Promise<void>((resolve) => {
    onClose = () => {
      closed = stopped = true;
      resolve();
    };
    client.once('close', onClose);
  });
  try {
    // Each scan at its own moment (start + i / rate), so the rate holds however long a send takes.
    for (let i = 0; i < count && !stopped; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      client.publish(topic, JSON.stringify(scan()), { qos: 1 }, (err) => {
        if (err) failed++;
        else acked++;
        if (acked + failed === count) allAcked();
      });
      sent++;
    }
    if (!stopped) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        acknowledged,
        io.interrupted,
        lost,
        new Promise((r) => (timer = setTimeout(r, ACK_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
  } finally {
    clearInterval(progress);
    if (progress) io.stderr.write(`${bar()}\n`);
    client.off('close', onClose);
    await client.endAsync(true);
  }
  const seconds = (Date.now() - started) / 1000;
  io.stdout.write(
    `${kind.event}: ${sent} sent, ${acked} acknowledged, ${failed} failed in ${seconds.toFixed(1)} s ` +
      `(${(acked / seconds).toFixed(1)}/s, asked for ${rate}/s)\n`,
  );
  if (closed) throw new CommandError(`the broker closed the connection after ${acked} of ${sent} were acknowledged`);
  if (acked < sent) throw new CommandError(`${sent - acked} of ${sent} not acknowledged by the broker`);
  return 0;
}
