import { loadProductCatalog, runConsumer, runMain } from '@spectrum-grocers/shared';
import { createDepartureHandler, readStock, SCHEMA, seedStock } from './handlers/customer-departure.js';

const SERVICE = 'inventory-intel';

runMain(SERVICE, (onStopping) =>
  runConsumer(
    {
      service: SERVICE,
      defaultHttpPort: 8084,
      schema: SCHEMA,
      routes: ({ db, config, log }) => {
        seedStock(db, loadProductCatalog());
        return {
          'customer-departure': createDepartureHandler({ db, clock: () => new Date(), topics: config.topics, log }),
        };
      },
      httpRoutes: (db) => ({ 'GET /stock': () => ({ status: 200, body: readStock(db) }) }),
    },
    onStopping,
  ),
);
