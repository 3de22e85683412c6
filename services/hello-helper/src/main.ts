import { runService } from '@spectrum-grocers/runtime';
import { createDisplay } from './display.js';
import { createArrivalHandler, SCHEMA, seedCustomers } from './handlers/customer-arrival.js';

// The entrance display: GET / (the page) and GET /events (its live feed).
const display = createDisplay();

runService({
  service: 'hello-helper',
  schema: SCHEMA,
  publishes: ['display-welcome'],
  consumes: ({ db, log }) => {
    seedCustomers(db);
    return { 'customer-arrival': createArrivalHandler({ db, clock: () => new Date(), log }) };
  },
  http: () => display.routes,
  started: (ctx) => display.attach(ctx),
  stopping: () => display.hub.close(),
});
