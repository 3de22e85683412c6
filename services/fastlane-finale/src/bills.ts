import { z } from 'zod';
import { schemas } from '@spectrum-grocers/contract';
import { route, type Db, type HttpRoute } from '@spectrum-grocers/runtime';

/** One bill as GET /bills lists it. */
export interface Bill {
  payment_event_id: string;
  departure_event_id: string;
  customer_id: number;
  amount_cents: number;
  item_count: number;
  created_at: string;
}

/** The most bills one answer lists; `next` pages further back. */
export const MAX_BILLS = 500;

export interface BillQuery {
  customerId: number;
  limit: number;
  /** Where the previous page ended (its `next`): only older bills. */
  after?: string;
}

export interface BillPage {
  bills: Bill[];
  /** Pass as `after` for the next, older page; absent on the last page. */
  next?: string;
}

/**
 * The position of a bill in a customer's list, newest first: (created_at, payment_event_id),
 * so bills made in the same millisecond are neither skipped nor listed twice across pages.
 */
function cursorOf(bill: Bill): string {
  return Buffer.from(JSON.stringify([bill.created_at, bill.payment_event_id])).toString('base64url');
}

/** A cursor from the wire: undefined when it is not one of ours. */
export function readCursor(text: string): [string, string] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return value as [string, string];
    }
  } catch {
    // not ours
  }
  return undefined;
}

/** A customer's bills, newest first, a page at a time. */
export function createBillBook(db: Db): { list(query: BillQuery): BillPage } {
  const columns = 'payment_event_id, departure_event_id, customer_id, amount_cents, item_count, created_at';
  const first = db.prepare<[number, number], Bill>(
    `SELECT ${columns} FROM bills WHERE customer_id = ?
      ORDER BY created_at DESC, payment_event_id DESC LIMIT ?`,
  );
  const after = db.prepare<[number, string, string, number], Bill>(
    `SELECT ${columns} FROM bills WHERE customer_id = ? AND (created_at, payment_event_id) < (?, ?)
      ORDER BY created_at DESC, payment_event_id DESC LIMIT ?`,
  );
  return {
    list({ customerId, limit, after: cursor }) {
      const n = Math.min(limit, MAX_BILLS);
      const position = cursor === undefined ? undefined : readCursor(cursor);
      // One more than asked, to know whether there is a next page.
      const rows = position ? after.all(customerId, ...position, n + 1) : first.all(customerId, n + 1);
      const bills = rows.slice(0, n);
      return rows.length > n ? { bills, next: cursorOf(bills[bills.length - 1]!) } : { bills };
    },
  };
}

/** A whole number from a query string, as digits only (no `0x10`, `1e1` or spaces). */
const digits = (name: string) =>
  z
    .string()
    .regex(/^\d{1,16}$/, `${name} must be a whole number`)
    .transform(Number);

export const BillsQuery = z.object({
  customer_id: digits('customer_id').pipe(schemas.Id),
  limit: digits('limit').pipe(z.int().positive().max(MAX_BILLS)).default(100),
  after: z
    .string()
    .max(512)
    .refine((c) => readCursor(c) !== undefined, 'after must be the `next` of a previous page')
    .optional()
    .describe('The `next` of the previous page: only older bills'),
});

export const BillBody = z.object({
  payment_event_id: schemas.EventId.describe('The payment-due event of this bill'),
  departure_event_id: schemas.EventId,
  customer_id: schemas.Id,
  amount_cents: z.int().nonnegative(),
  // Zero in bills from before an empty basket stopped being billed.
  item_count: z.int().nonnegative(),
  created_at: z.string(),
});

/** GET /bills?customer_id=: one customer's bills, newest first, a page at a time. */
export function billsRoute(db: Db): HttpRoute {
  const bills = createBillBook(db);
  return route({
    method: 'GET',
    path: '/bills',
    summary: "One customer's bills, newest first (a departure with nothing in the bag is not billed)",
    query: BillsQuery,
    responses: {
      200: z.object({
        bills: z.array(BillBody),
        next: z.string().optional().describe('Pass as `after` for the next, older page; absent on the last'),
      }),
    },
    handler: ({ query }) => ({
      status: 200,
      body: bills.list({ customerId: query.customer_id, limit: query.limit, after: query.after }),
    }),
  });
}
