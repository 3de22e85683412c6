import { type WireEvent } from '@spectrum-grocers/contract';
import { randomInt } from '@spectrum-grocers/runtime';

export interface BasketShape {
  maxCustomerId: number;
  maxProductId: number;
  maxItems: number;
}

/**
 * A simulated exit scan, as in the original: a random customer and 1..maxItems random
 * products (a product may appear more than once: two cartons of milk are two scans).
 */
export function simulatedDeparture(
  now: Date,
  random: () => number,
  shape: BasketShape,
): WireEvent<'customer-departure'> {
  const count = randomInt(random, 1, shape.maxItems);
  return {
    timestamp: now.toISOString(),
    customer_id: randomInt(random, 1, shape.maxCustomerId),
    product_ids: Array.from({ length: count }, () => randomInt(random, 1, shape.maxProductId)),
  };
}
