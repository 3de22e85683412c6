import { runConsumer, runMain } from '@spectrum-grocers/shared';
import { createArrivalHandler, SCHEMA, seedCustomers } from './handlers/customer-arrival.js';

const SERVICE = 'hello-helper';

runMain(SERVICE, (onStopping) =>
  runConsumer(
    {
      service: SERVICE,
      defaultHttpPort: 8083,
      schema: SCHEMA,
      routes: ({ db, config, log }) => {
        seedCustomers(db);
        return {
          'customer-arrival': createArrivalHandler({ db, clock: () => new Date(), topics: config.topics, log }),
        };
      },
    },
    onStopping,
  ),
);
