import { GateEnv, runGate, runMain } from '@spectrum-grocers/shared';
import { simulatedArrival } from './handlers/arrival.js';

const SERVICE = 'gateway-guardian';

runMain(SERVICE, (onStopping) =>
  runGate(
    {
      service: SERVICE,
      event: 'customer-arrival',
      env: GateEnv,
      defaultHttpPort: 8081,
      generate: (now, o) => simulatedArrival(now, Math.random, o.CUSTOMER_ID_MAX),
    },
    onStopping,
  ),
);
