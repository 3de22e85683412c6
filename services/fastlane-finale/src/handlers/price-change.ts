import type { Event } from '@spectrum-grocers/contract';
import { eventLines, shortId, type EventHandler, type Logger } from '@spectrum-grocers/runtime';
import type { PriceBook } from '../prices.js';

export interface Deps {
  prices: Pick<PriceBook, 'apply'>;
  clock: () => Date;
  log: Logger;
}

const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/**
 * Apply the head office's price for one product: departures billed after this commit pay it.
 * A change older than the one in force (it arrived late, through another path) changes nothing.
 */
export function createPriceChangeHandler({ prices, clock, log }: Deps): EventHandler<'price-change', never> {
  const line = eventLines(log, 'price-change');
  return (change: Event<'price-change'>) => {
    const applied = prices.apply({
      productId: change.product_id,
      priceCents: change.price_cents,
      decidedAt: Date.parse(change.timestamp),
      changeId: change.event_id,
      appliedAt: clock().toISOString(),
    });
    const fields = { productId: change.product_id, priceCents: change.price_cents, eventId: change.event_id };
    line(
      fields,
      applied
        ? `price-change ${shortId(change.event_id)}: product ${change.product_id} now ${dollars(change.price_cents)}`
        : `price-change ${shortId(change.event_id)}: product ${change.product_id} has a later price already; kept it`,
    );
    return [];
  };
}
