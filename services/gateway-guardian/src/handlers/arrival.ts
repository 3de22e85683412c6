import { type WireEvent } from '@spectrum-grocers/contract';
import { randomInt } from '@spectrum-grocers/runtime';

/** A simulated card scan at the entrance: a random customer 1..maxCustomerId, as in the original. */
export function simulatedArrival(
  now: Date,
  random: () => number,
  maxCustomerId: number,
): WireEvent<'customer-arrival'> {
  return { timestamp: now.toISOString(), customer_id: randomInt(random, 1, maxCustomerId) };
}
