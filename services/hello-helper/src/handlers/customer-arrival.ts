import { deriveEventId, type Event } from '@spectrum-grocers/contract';
import { shortId, type Db, type EventHandler, type Logger } from '@spectrum-grocers/runtime';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  customer_id INTEGER PRIMARY KEY,
  name        TEXT NOT NULL
);
`;

/** The loyalty-card holders the store starts with: the original suite's ten customers. */
export const SEED_CUSTOMERS: ReadonlyArray<readonly [number, string]> = [
  [1, 'Dave'],
  [2, 'Alice'],
  [3, 'Bob'],
  [4, 'Carol'],
  [5, 'Eve'],
  [6, 'Frank'],
  [7, 'Grace'],
  [8, 'Heidi'],
  [9, 'Ivan'],
  [10, 'Judy'],
];

export const GENERIC_WELCOME = 'Welcome to Fresh Frontier!';

export function seedCustomers(db: Db): void {
  const insert = db.prepare('INSERT OR IGNORE INTO customers (customer_id, name) VALUES (?, ?)');
  db.transaction(() => {
    for (const [id, name] of SEED_CUSTOMERS) insert.run(id, name);
  })();
}

/** The greeting for a name, or the polite generic one for a card we do not know. */
export function welcomeMessage(name: string | undefined): string {
  return name ? `Welcome, ${name}` : GENERIC_WELCOME;
}

export interface Deps {
  db: Db;
  clock: () => Date;
  log: Logger;
}

/** Look the customer up and put the greeting on the entrance display. */
export function createArrivalHandler({ db, clock, log }: Deps): EventHandler<'customer-arrival', 'display-welcome'> {
  const lookup = db.prepare<[number], { name: string }>('SELECT name FROM customers WHERE customer_id = ?');
  return (arrival: Event<'customer-arrival'>) => {
    const name = lookup.get(arrival.customer_id)?.name;
    const welcome: Event<'display-welcome'> = {
      event_id: deriveEventId('display-welcome', arrival.event_id),
      causation_id: arrival.event_id,
      timestamp: clock().toISOString(),
      customer_id: arrival.customer_id,
      name: name ?? null,
      message: welcomeMessage(name),
    };
    // The arrival's one line: who came in and what the display says to them.
    log.info(
      { customerId: arrival.customer_id, known: name !== undefined, eventId: arrival.event_id },
      `arrival ${shortId(arrival.event_id)} customer ${arrival.customer_id}: ${welcome.message}`,
    );
    return [{ event: 'display-welcome', payload: welcome }];
  };
}
