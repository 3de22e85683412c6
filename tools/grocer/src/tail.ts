import { parseArgs } from 'node:util';
import {
  chainFilter,
  EVENT_NAMES,
  eventTopic,
  OBSERVER,
  parseEvent,
  parseTopic,
  storeFilter,
  type EventName,
} from '@spectrum-grocers/contract';
import {
  beforeClose,
  CommandError,
  CONNECTION_OPTIONS,
  connect,
  painter,
  settings,
  UsageError,
  type Io,
} from './io.js';

export const TAIL_HELP = `Usage: grocer tail [pattern] [options]

Print the store's events as they happen, each marked valid (✓) or refused by its schema (✗).

  pattern             an event name (payment-due), or an MQTT filter
                      (default: {chain}/{store}/#, everything of the store)
  -n, --count N       stop after N messages
      --json          one JSON object per line instead of pretty text
      --url URL       broker (default: MQTT_URL, the running \`pnpm start\`, mqtt://localhost:1883)
      --store NAME    another store of the chain (\`pnpm start:chain\`'s are found by name)
      --hq URL        the head office's broker: every store's events (--store: one store's)
  -u, --username U    with -p: connect as U (default: the observer account when its password is known)
  -p, --password P
  -h, --help`;

export async function tail(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      count: { type: 'string', short: 'n' },
      json: { type: 'boolean' },
      ...CONNECTION_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return (void io.stdout.write(`${TAIL_HELP}\n`), 0);
  if (positionals.length > 1) throw new UsageError(`tail takes one pattern, not ${positionals.length}`);
  const count = values.count === undefined ? Infinity : Number(values.count);
  if (count !== Infinity && (!Number.isInteger(count) || count < 1)) {
    throw new UsageError(`--count must be a positive integer, not ${values.count}`);
  }
  const s = settings(io, values);
  // At HQ, every store's events; --store narrows it to one.
  const everything = s.hq && values.store === undefined ? chainFilter(s.root) : storeFilter(s.root);
  const pattern = positionals[0] ?? everything;
  const isFilter = pattern.includes('/') || pattern.includes('#');
  if (!isFilter && !(EVENT_NAMES as string[]).includes(pattern)) {
    throw new UsageError(`unknown event ${pattern} (one of ${EVENT_NAMES.join(', ')}, or an MQTT filter)`);
  }
  const filter = isFilter ? pattern : eventTopic(s.root, pattern as EventName);
  const client = await connect(s, OBSERVER);
  const c = painter(io);
  const prefix = storeFilter(s.root).slice(0, -'#'.length);
  const relative = (topic: string) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    client.on('message', (topic, payload) => {
      if (seen >= count) return;
      const kind = parseTopic(s.root, topic);
      const event = kind.kind === 'event' ? kind.event : undefined;
      // Within the store, a topic by its name in the catalog (an event, status/…, dead-letter/…).
      const name =
        kind.kind === 'other' ? relative(topic) : kind.kind === 'event' ? kind.event : `${kind.kind}/${kind.service}`;
      const parsed = event ? parseEvent(event, payload) : undefined;
      const at = new Date().toISOString();
      if (values.json) {
        let body: unknown = payload.toString('utf8');
        try {
          body = JSON.parse(body as string);
        } catch {
          // kept as text
        }
        const verdict = parsed ? (parsed.ok ? { valid: true } : { valid: false, reason: parsed.reason }) : {};
        io.stdout.write(`${JSON.stringify({ at, topic, ...verdict, payload: body })}\n`);
      } else {
        const mark = !parsed ? c.dim('•') : parsed.ok ? c.green('✓') : c.red('✗');
        const detail = parsed && !parsed.ok ? c.red(`refused: ${parsed.reason}  `) : '';
        io.stdout.write(
          `${c.dim(at.slice(11, 23))} ${mark} ${c.bold(name.padEnd(20))} ${detail}${payload.toString('utf8')}\n`,
        );
      }
      if (++seen >= count) resolve();
    });
  });
  try {
    const [granted] = await beforeClose(client, client.subscribeAsync(filter, { qos: 1 }), `cannot tail ${filter}`);
    if (granted === undefined || granted.qos === 128) {
      throw new CommandError(`cannot tail ${filter}: the broker refused the subscription`);
    }
    if (!values.json && io.stderr.isTTY) io.stderr.write(c.dim(`tailing ${filter} on ${s.url} (Ctrl-C to stop)\n`));
    await beforeClose(client, Promise.race([done, io.interrupted]), `stopped tailing ${filter}`, 'unbounded');
  } finally {
    await client.endAsync(true);
  }
  return 0;
}
