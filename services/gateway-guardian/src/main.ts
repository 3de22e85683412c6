import { gateService, GateEnv, runService } from '@spectrum-grocers/runtime';
import { simulatedArrival } from './handlers/arrival.js';

runService(
  gateService({
    service: 'gateway-guardian',
    event: 'customer-arrival',
    env: GateEnv,
    generate: (now, o) => simulatedArrival(now, Math.random, o.CUSTOMER_ID_MAX),
  }),
);
