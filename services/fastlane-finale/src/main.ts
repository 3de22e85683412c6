import { loadProductCatalog, runService } from '@spectrum-grocers/runtime';
import { billsRoute } from './bills.js';
import { createDepartureHandler, migrate, SCHEMA } from './handlers/customer-departure.js';

runService({
  service: 'fastlane-finale',
  schema: SCHEMA,
  migrate,
  publishes: ['payment-due'],
  consumes: ({ db, log, config }) => ({
    'customer-departure': createDepartureHandler({
      db,
      catalog: loadProductCatalog(config.catalogFile),
      clock: () => new Date(),
      log,
    }),
  }),
  http: ({ db }) => [billsRoute(db)],
});
