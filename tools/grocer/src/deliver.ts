import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { HTTP_PORTS } from '@spectrum-grocers/contract';
import { askProcess, CommandError, processUrl, UsageError, type Io } from './io.js';

const INVENTORY = 'inventory-intel';

export const DELIVER_HELP = `Usage: grocer deliver <product_id> <quantity> [options]

Tell inventory-intel that goods arrived (POST /deliveries): the product's stock rises once per
delivery id, however often it is sent. Prints the delivery id.

  product_id            a product of the catalog (1-100)
  quantity              how many units arrived
      --delivery-id ID  the supplier's reference (default: one is made and printed); the same
                        id with the same goods again changes nothing
      --url URL         inventory-intel (default: INVENTORY_INTEL_URL, the running \`pnpm start\`'s,
                        or http://localhost:${HTTP_PORTS[INVENTORY]} + PORT_OFFSET)
  -h, --help`;

/** A whole number above zero from the command line, or a UsageError naming `what`. */
function count(what: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${what} must be a whole number above 0, not ${text}`);
  }
  return n;
}

export async function deliver(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'delivery-id': { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return (void io.stdout.write(`${DELIVER_HELP}\n`), 0);
  if (positionals.length !== 2) {
    throw new UsageError('deliver needs a product and a quantity: grocer deliver <product_id> <quantity>');
  }
  const deliveryId = values['delivery-id'];
  if (deliveryId !== undefined && deliveryId.trim() === '') throw new UsageError('--delivery-id must not be empty');
  // Made here, not by the server: a delivery sent again after no answer is the same delivery.
  const id = deliveryId ?? randomUUID();
  const request = {
    product_id: count('product_id', positionals[0]!),
    quantity: count('quantity', positionals[1]!),
    delivery_id: id,
  };
  const at = values.url
    ? { url: values.url.replace(/\/$/, ''), variable: 'INVENTORY_INTEL_URL' }
    : processUrl(io, INVENTORY);
  const res = await askProcess(at, INVENTORY, '/deliveries', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  }).catch((err: unknown) => {
    // It may have been taken before the answer was lost: the same id again cannot add it twice.
    if (err instanceof CommandError) {
      throw new CommandError(`${err.message}; to try again without delivering twice, add --delivery-id ${id}`);
    }
    throw err;
  });
  const { error, delivery_id: accepted } = res.body;
  if (res.status === 404) throw new CommandError(`${INVENTORY} at ${at.url} takes no deliveries (POST /deliveries)`);
  if (!res.ok) {
    throw new CommandError(
      `${INVENTORY} refused the delivery: ${typeof error === 'string' ? error : `HTTP ${res.status}`}`,
    );
  }
  if (typeof accepted !== 'string') {
    throw new CommandError(`${INVENTORY} answered ${res.status} without a delivery_id`);
  }
  io.stdout.write(`${accepted}\n`);
  return 0;
}
