import { AppError, deriveEventId, type Event, type EventMessage } from '@spectrum-grocers/contract';
import { counted, eventLines, shortId, type EventHandler, type Logger } from '@spectrum-grocers/runtime';
import type { Shelves } from '../stock.js';

export interface Deps {
  shelves: Shelves;
  clock: () => Date;
  log: Logger;
  /** Told of each restock alert inside the transaction that emits it (the simulated supplier orders). */
  onAlert?: (alert: { eventId: string; productId: number; quantity: number }) => void;
}

/**
 * Take a departure's products off the shelves. Stock never goes below zero (taking more than
 * we think we have is logged as an anomaly); a product that falls below its threshold raises
 * one restock-alert for that crossing.
 */
export function createDepartureHandler({
  shelves,
  clock,
  log,
  onAlert,
}: Deps): EventHandler<'customer-departure', 'restock-alert'> {
  const line = eventLines(log, 'departure');
  return (departure: Event<'customer-departure'>) => {
    const { taken, unknown } = shelves.take(departure.product_ids);
    if (unknown.length > 0)
      throw new AppError('UNKNOWN_PRODUCT', `product_ids not in the catalog: ${unknown.join(', ')}`);
    const alerts: EventMessage<'restock-alert'>[] = [];
    for (const t of taken) {
      if (t.count > t.before) {
        log.warn(
          { productId: t.productId, stock: t.before, taken: t.count, eventId: departure.event_id },
          'stock anomaly: more taken than in stock; clamped at 0',
        );
      }
      if (!t.crossed) continue;
      const alert: Event<'restock-alert'> = {
        event_id: deriveEventId('restock-alert', departure.event_id, t.productId),
        causation_id: departure.event_id,
        timestamp: clock().toISOString(),
        item_id: t.productId,
        quantity: t.after,
        threshold: t.threshold,
      };
      log.debug(
        { itemId: t.productId, quantity: t.after, threshold: t.threshold, eventId: alert.event_id },
        `restock-alert for product ${t.productId}`,
      );
      onAlert?.({ eventId: alert.event_id, productId: t.productId, quantity: t.after });
      alerts.push({ event: 'restock-alert', payload: alert });
    }
    // One line per departure: what left the shelves, and which products now need restocking.
    const restock = alerts.map((a) => a.payload.item_id);
    line(
      { customerId: departure.customer_id, items: departure.product_ids.length, restock, eventId: departure.event_id },
      `departure ${shortId(departure.event_id)} customer ${departure.customer_id}: ` +
        `${counted(departure.product_ids.length, 'item')} off the shelves${restock.length > 0 ? `; restock ${restock.join(', ')}` : ''}`,
    );
    return alerts;
  };
}
