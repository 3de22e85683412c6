import { deliver, DELIVER_HELP } from './deliver.js';
import { CommandError, UsageError, type Io } from './io.js';
import { load, LOAD_HELP } from './load.js';
import { publish, PUBLISH_HELP } from './publish.js';
import { tail, TAIL_HELP } from './tail.js';
import { trace, TRACE_HELP } from './trace.js';

export const HELP = `Usage: grocer <command> [options]

The store's events from the command line.

Commands:
  tail [pattern]                       live events, each marked valid or refused by its schema
  publish <event> --field value...     validate an event, then publish it
  load departures --rate R --count N   simulated scans at a steady rate, with a summary
  trace <event_id>                     the causal chain of an event (from the control room)
  deliver <product_id> <quantity>      goods arrived: inventory-intel raises the stock once

grocer <command> --help tells more. The broker comes from --url, MQTT_URL (.env), or a running
\`pnpm start\`; accounts' passwords from the environment, .env or that running store.
PORT_OFFSET=10 (or 20, …) talks to the store started with it beside the first; --store NAME to
a store of the chain by its name (\`pnpm start:chain\`'s are found by it), and --hq URL to the head
office's broker (grocer tail --hq mqtt://localhost:2883: every store's events).`;

const COMMANDS: Record<string, { run: (args: string[], io: Io) => Promise<number>; help: string }> = {
  tail: { run: tail, help: TAIL_HELP },
  publish: { run: publish, help: PUBLISH_HELP },
  load: { run: load, help: LOAD_HELP },
  trace: { run: trace, help: TRACE_HELP },
  deliver: { run: deliver, help: DELIVER_HELP },
};

/** Run one grocer command; errors are one line on stderr. Resolves with the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command ${name} (${Object.keys(COMMANDS).join(', ')}; grocer --help)`);
    return await command.run(args, io);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const known = usage || err instanceof CommandError;
    // One line, whatever was thrown: the first of its message.
    const message = (known ? (err as Error).message : String(err)).split('\n')[0];
    io.stderr.write(`grocer${command ? ` ${name}` : ''}: ${message}\n`);
    return usage ? 2 : 1;
  }
}
