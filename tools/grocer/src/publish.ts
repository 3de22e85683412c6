import { EVENT_NAMES, EVENTS, eventTopic, newEventId, validateEvent, type EventName } from '@spectrum-grocers/contract';
import { type Account } from '@spectrum-grocers/broker';
import { asWhom, beforeClose, CommandError, CONNECTION_OPTIONS, connect, settings, UsageError, type Io } from './io.js';

export const PUBLISH_HELP = `Usage: grocer publish <event> --field value... [options]

Validate an event against its schema, then publish it at QoS 1 and wait for the broker's
acknowledgement. timestamp and event_id are filled in when not given.

  event               ${EVENT_NAMES.join(', ')}
  --<field> <value>   a field of the event: numbers as numbers, lists as 1,2,3 or [1,2,3]
                      e.g. grocer publish customer-departure --customer_id 4 --product_ids 1,2,3
      --as ACCOUNT    the account to publish with (default: the event's publisher)
      --url URL       broker (default: MQTT_URL, the running \`pnpm start\`, mqtt://localhost:1883)
      --store NAME    another store of the chain; all-stores: every store at once (price-change)
      --hq URL        publish at the head office's broker (a price-change for --store)
  -u, --username U    with -p: connect as U
  -p, --password P
  -h, --help

Prints the event_id of what was published.`;

const OWN_FLAGS = new Set(['as', ...Object.keys(CONNECTION_OPTIONS)]);
const SHORT: Record<string, string> = {
  h: 'help',
  ...Object.fromEntries(
    Object.entries(CONNECTION_OPTIONS).flatMap(([name, o]) => ('short' in o ? [[o.short, name]] : [])),
  ),
};

/** A command-line value as JSON where it reads as JSON (1, true, [1,2]); `1,2,3` as a list of them. */
function value(text: string, list: boolean): unknown {
  if (list && !text.trim().startsWith('[')) return text.split(',').map((t) => value(t.trim(), false));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function publish(args: string[], io: Io): Promise<number> {
  const fields: Record<string, string> = {};
  const flags: Record<string, string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return (void io.stdout.write(`${PUBLISH_HELP}\n`), 0);
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg) ?? /^-([a-z])$/.exec(arg);
    if (!m) {
      positionals.push(arg);
      continue;
    }
    const name = SHORT[m[1]!] ?? m[1]!;
    const given = m[2] ?? args[++i];
    if (given === undefined) throw new UsageError(`--${name} needs a value`);
    (OWN_FLAGS.has(name) ? flags : fields)[name] = given;
  }
  const [event, ...extra] = positionals;
  if (!event) throw new UsageError('publish needs an event: grocer publish <event> --field value...');
  if (extra.length) throw new UsageError(`unexpected ${extra.join(' ')} (fields are given as --name value)`);
  if (!(EVENT_NAMES as string[]).includes(event)) {
    throw new UsageError(`unknown event ${event} (one of ${EVENT_NAMES.join(', ')})`);
  }
  const name = event as EventName;
  const shape = (
    EVENTS[name].schema as unknown as { shape?: Record<string, { type?: string; def?: { type?: string } }> }
  ).shape;
  const body: Record<string, unknown> = { timestamp: new Date().toISOString() };
  for (const [field, text] of Object.entries(fields)) {
    const list = shape?.[field]?.def?.type === 'array';
    body[field] = value(text, list);
  }
  const parsed = validateEvent(name, body, newEventId);
  if (!parsed.ok) throw new CommandError(`${name} refused by its schema: ${parsed.reason}`);
  const s = settings(io, flags);
  const account = (flags.as ?? EVENTS[name].publisher) as Account;
  const client = await connect(s, account);
  // A broker that refuses the publish closes the connection (MQTT 3.1.1 has no other answer).
  const refused = `could not publish ${name}${asWhom(s, account)}`;
  try {
    await beforeClose(
      client,
      client.publishAsync(eventTopic(s.root, name), JSON.stringify(parsed.value), { qos: 1 }).catch((err: Error) => {
        throw new CommandError(`${refused}: ${err.message}`);
      }),
      refused,
    );
  } finally {
    await client.endAsync(true);
  }
  io.stdout.write(`${parsed.value.event_id}\n`);
  return 0;
}
