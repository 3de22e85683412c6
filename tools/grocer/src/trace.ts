import { parseArgs } from 'node:util';
import { CONTROL_ROOM, HTTP_PORTS } from '@spectrum-grocers/contract';
import { askProcess, CommandError, painter, processUrl, UsageError, type Io } from './io.js';

export const TRACE_HELP = `Usage: grocer trace <event_id> [options]

The causal chain of an event, from the control room's store: the event that started it and
everything it caused (a departure's payment and restock alerts, an arrival's welcome).

      --control-room URL   the control room (default: CONTROL_ROOM_URL, the running \`pnpm start\`'s,
                           or http://localhost:${HTTP_PORTS[CONTROL_ROOM]} + PORT_OFFSET)
      --event NAME         the event's kind, when events of two kinds share the id (e.g. customer-departure)
      --json               the chain as JSON
  -h, --help`;

interface TraceNode {
  event_id: string;
  event: string;
  timestamp: string | null;
  payload: Record<string, unknown>;
  asked: boolean;
  effects: TraceNode[];
}

/** A field as text; `?` when missing. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return `${v}`;
  return v === undefined || v === null ? '?' : JSON.stringify(v);
}

/** A few words on what an event says. */
function gist(n: TraceNode): string {
  const p = n.payload ?? {};
  switch (n.event) {
    case 'customer-arrival':
      return `customer ${text(p.customer_id)}`;
    case 'customer-departure':
      return `customer ${text(p.customer_id)}, ${Array.isArray(p.product_ids) ? `${p.product_ids.length} item${p.product_ids.length === 1 ? '' : 's'}` : '? items'}`;
    case 'payment-due':
      return `customer ${text(p.customer_id)} owes $${Number(p.amount).toFixed(2)}`;
    case 'restock-alert':
      return `product ${text(p.item_id)}: ${text(p.quantity)} left (threshold ${text(p.threshold)})`;
    case 'display-welcome':
      return `"${text(p.message)}"`;
    default:
      return '';
  }
}

export async function trace(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'control-room': { type: 'string' },
      event: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return (void io.stdout.write(`${TRACE_HELP}\n`), 0);
  if (positionals.length !== 1) throw new UsageError('trace needs one event_id: grocer trace <event_id>');
  const given = values['control-room'];
  const at = given ? { url: given.replace(/\/$/, ''), variable: 'CONTROL_ROOM_URL' } : processUrl(io, CONTROL_ROOM);
  const query = new URLSearchParams({ event_id: positionals[0]!, ...(values.event && { event: values.event }) });
  const res = await askProcess(at, 'the control room', `/api/trace?${query.toString()}`);
  const body = res.body as unknown as TraceNode & { error?: string };
  if (!res.ok) throw new CommandError(body.error ?? `the control room answered ${res.status}`);
  if (values.json) return (void io.stdout.write(`${JSON.stringify(body, null, 2)}\n`), 0);
  const c = painter(io);
  const lines: string[] = [];
  const walk = (n: TraceNode, lead: string, tail: string) => {
    const time = n.timestamp ? c.dim(n.timestamp.slice(11, 23)) : '';
    const here = n.asked ? c.yellow('  ← asked') : '';
    lines.push(`${lead}${c.bold(n.event)}  ${n.event_id}  ${time}  ${gist(n)}${here}`);
    n.effects.forEach((e, i) => {
      const last = i === n.effects.length - 1;
      walk(e, `${tail}${last ? '└─ ' : '├─ '}`, `${tail}${last ? '   ' : '│  '}`);
    });
  };
  walk(body, '', '');
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
