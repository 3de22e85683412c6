import { runConsumer, runMain } from '@spectrum-grocers/shared';
import { createDisplay } from './display.js';
import { createArrivalHandler, SCHEMA, seedCustomers } from './handlers/customer-arrival.js';

const SERVICE = 'hello-helper';

runMain(SERVICE, (onStopping) => {
  // The entrance display: GET / (the page) and GET /events (its live feed).
  const display = createDisplay();
  return runConsumer(
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
      httpRoutes: () => display.routes,
      httpStreams: { '/events': display.hub.route },
      started: (service) => display.attach(service),
    },
    () => {
      display.hub.close();
      onStopping();
    },
  );
});
