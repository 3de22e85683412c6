import type { Db } from '@spectrum-grocers/runtime';

/** One bill as GET /bills lists it. */
export interface Bill {
  payment_event_id: string;
  departure_event_id: string;
  customer_id: number;
  amount_cents: number;
  item_count: number;
  created_at: string;
}

/** The most bills one answer lists; `before` pages further back. */
export const MAX_BILLS = 500;

export interface BillQuery {
  customerId: number;
  limit: number;
  /** Only bills created before this ISO time (the previous page's last `created_at`). */
  before?: string;
}

/** A customer's bills, newest first. */
export function createBillBook(db: Db): { list(query: BillQuery): Bill[] } {
  const list = db.prepare<[number, string, number], Bill>(
    `SELECT payment_event_id, departure_event_id, customer_id, amount_cents, item_count, created_at
       FROM bills WHERE customer_id = ? AND created_at < ? ORDER BY created_at DESC, payment_event_id LIMIT ?`,
  );
  return {
    // '~' sorts after every ISO time: no `before` means from the newest.
    list: ({ customerId, limit, before }) => list.all(customerId, before ?? '~', Math.min(limit, MAX_BILLS)),
  };
}
