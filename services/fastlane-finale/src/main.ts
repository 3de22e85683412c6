import { z } from 'zod';
import { schemas } from '@spectrum-grocers/contract';
import { loadProductCatalog, route, runService } from '@spectrum-grocers/runtime';
import { createBillBook, MAX_BILLS } from './bills.js';
import { createDepartureHandler, SCHEMA } from './handlers/customer-departure.js';

const BillsQuery = z.object({
  customer_id: z.coerce.number().pipe(schemas.Id),
  limit: z.coerce.number().pipe(z.int().positive().max(MAX_BILLS)).default(100),
  before: schemas.Timestamp.optional().describe(
    "Only bills created before this time: the last page's oldest created_at",
  ),
});

const Bill = z.object({
  payment_event_id: schemas.EventId.describe('The payment-due event of this bill'),
  departure_event_id: schemas.EventId,
  customer_id: schemas.Id,
  amount_cents: z.int().nonnegative(),
  item_count: z.int().positive(),
  created_at: z.string(),
});

runService({
  service: 'fastlane-finale',
  schema: SCHEMA,
  publishes: ['payment-due'],
  consumes: ({ db, log }) => ({
    'customer-departure': createDepartureHandler({ db, catalog: loadProductCatalog(), clock: () => new Date(), log }),
  }),
  http: ({ db }) => {
    const bills = createBillBook(db);
    return [
      route({
        method: 'GET',
        path: '/bills',
        summary: "One customer's bills, newest first (a departure with nothing in the bag is not billed)",
        query: BillsQuery,
        responses: { 200: z.object({ bills: z.array(Bill) }) },
        handler: ({ query }) => ({
          status: 200,
          body: { bills: bills.list({ customerId: query.customer_id, limit: query.limit, before: query.before }) },
        }),
      }),
    ];
  },
});
