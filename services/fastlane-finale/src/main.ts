import { loadProductCatalog, runService, type ServiceContext } from '@spectrum-grocers/runtime';
import { billsRoute } from './bills.js';
import { createDepartureHandler, migrate, SCHEMA } from './handlers/customer-departure.js';
import { createPriceChangeHandler } from './handlers/price-change.js';
import { createPriceBook, PRICES_SCHEMA, pricesRoute, type PriceBook } from './prices.js';

// One price book per start (a large catalog is read once), from the first hook that needs it.
let book: PriceBook | undefined;
const pricesOf = ({ db, config }: ServiceContext) =>
  (book ??= createPriceBook(db, loadProductCatalog(config.catalogFile)));
const clock = () => new Date();

runService({
  service: 'fastlane-finale',
  schema: SCHEMA + PRICES_SCHEMA,
  migrate,
  publishes: ['payment-due'],
  consumes: (ctx) => ({
    'customer-departure': createDepartureHandler({ db: ctx.db, prices: pricesOf(ctx), clock, log: ctx.log }),
    'price-change': createPriceChangeHandler({ prices: pricesOf(ctx), clock, log: ctx.log }),
  }),
  http: (ctx) => [billsRoute(ctx.db), pricesRoute(pricesOf(ctx))],
});
