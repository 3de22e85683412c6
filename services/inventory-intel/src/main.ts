import { runService, loadProductCatalog } from '@spectrum-grocers/runtime';
import { createDepartureHandler } from './handlers/customer-departure.js';
import { createShelves, STOCK_SCHEMA } from './stock.js';

runService({
  service: 'inventory-intel',
  schema: STOCK_SCHEMA,
  publishes: ['restock-alert'],
  consumes: ({ db, log }) => {
    const shelves = createShelves(db);
    shelves.seed(loadProductCatalog());
    return { 'customer-departure': createDepartureHandler({ shelves, clock: () => new Date(), log }) };
  },
  http: ({ db }) => {
    const shelves = createShelves(db);
    return { routes: { 'GET /stock': () => ({ status: 200, body: shelves.read() }) } };
  },
});
