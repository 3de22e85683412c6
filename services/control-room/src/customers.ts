import type { Db } from '@spectrum-grocers/runtime';

/**
 * The names hello-helper greets customers by (its display-welcome events), so that the operator
 * reads "Dave", not a number. A welcome without a name leaves what is known.
 */
export const CUSTOMERS_SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  customer_id INTEGER PRIMARY KEY,
  name        TEXT NOT NULL
);
`;

export interface Customers {
  /** Keep the name a welcome gave; call inside the ledger's transaction. */
  readonly remember: (customerId: number, name: string | null) => void;
  readonly nameOf: (customerId: number) => string | undefined;
}

/**
 * The customers' names in `db` (its schema must include CUSTOMERS_SCHEMA). A store kept before
 * names were kept learns them once from the welcomes it already holds, oldest first.
 */
export function createCustomers(db: Db): Customers {
  const upsert = db.prepare(
    'INSERT INTO customers (customer_id, name) VALUES (?, ?) ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name',
  );
  const select = db.prepare<[number], { name: string }>('SELECT name FROM customers WHERE customer_id = ?');
  if (!db.prepare('SELECT 1 FROM customers LIMIT 1').get()) {
    db.exec(`INSERT INTO customers (customer_id, name)
      SELECT json_extract(payload, '$.customer_id'), json_extract(payload, '$.name') FROM event_log
      WHERE event = 'display-welcome' AND valid = 1 AND json_extract(payload, '$.name') IS NOT NULL
      ORDER BY received_at
      ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name`);
  }
  return {
    remember(customerId, name) {
      if (name !== null && name.trim() !== '') upsert.run(customerId, name);
    },
    nameOf: (customerId) => select.get(customerId)?.name,
  };
}
