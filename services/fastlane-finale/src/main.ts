import { loadProductCatalog, runConsumer, runMain } from '@spectrum-grocers/shared';
import { createDepartureHandler, SCHEMA } from './handlers/customer-departure.js';

const SERVICE = 'fastlane-finale';

runMain(SERVICE, (onStopping) =>
  runConsumer(
    {
      service: SERVICE,
      defaultHttpPort: 8085,
      schema: SCHEMA,
      routes: ({ db, config, log }) => ({
        'customer-departure': createDepartureHandler({
          db,
          catalog: loadProductCatalog(),
          clock: () => new Date(),
          topics: config.topics,
          log,
        }),
      }),
    },
    onStopping,
  ),
);
