import { envPositiveInt, GateEnv, runGate, runMain } from '@spectrum-grocers/shared';
import { simulatedDeparture } from './handlers/departure.js';

const SERVICE = 'gateexit-guardian';

const ExitGateEnv = GateEnv.safeExtend({
  /** Simulated products are 1..PRODUCT_ID_MAX (the catalog's ids). */
  PRODUCT_ID_MAX: envPositiveInt.default(100),
  /** A simulated basket holds 1..BASKET_MAX_ITEMS products. */
  BASKET_MAX_ITEMS: envPositiveInt.default(10),
});

runMain(SERVICE, (onStopping) =>
  runGate(
    {
      service: SERVICE,
      event: 'customer-departure',
      env: ExitGateEnv,
      defaultHttpPort: 8082,
      generate: (now, o) =>
        simulatedDeparture(now, Math.random, {
          maxCustomerId: o.CUSTOMER_ID_MAX,
          maxProductId: o.PRODUCT_ID_MAX,
          maxItems: o.BASKET_MAX_ITEMS,
        }),
    },
    onStopping,
  ),
);
