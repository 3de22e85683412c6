import { AppError, type Event } from '@spectrum-grocers/contract';
import { shortId, type EventHandler, type Logger } from '@spectrum-grocers/runtime';
import type { Shelves } from '../stock.js';

export interface Deps {
  shelves: Shelves;
  clock: () => Date;
  log: Logger;
}

/**
 * Put a delivery on the shelves: its product's stock rises by its quantity, once per
 * `delivery_id` (a delivery sent again, under another event_id too, raises nothing). A second,
 * different delivery under a known id, or one for a product the store does not stock, is refused
 * (dead-letter): either is a supplier's mistake that a person must look at.
 */
export function createDeliveryHandler({ shelves, clock, log }: Deps): EventHandler<'stock-delivered', never> {
  return (delivery: Event<'stock-delivered'>) => {
    const received = shelves.receive(delivery, clock());
    switch (received.outcome) {
      case 'raised':
        log.info(
          {
            deliveryId: delivery.delivery_id,
            productId: delivery.product_id,
            quantity: delivery.quantity,
            stock: received.after,
            eventId: delivery.event_id,
          },
          `delivery ${shortId(delivery.delivery_id)} product ${delivery.product_id}: +${delivery.quantity}, stock now ${received.after}`,
        );
        return [];
      case 'repeated':
        log.info(
          { deliveryId: delivery.delivery_id, productId: delivery.product_id, eventId: delivery.event_id },
          `delivery ${shortId(delivery.delivery_id)} product ${delivery.product_id}: received already; stock unchanged`,
        );
        return [];
      case 'conflict':
        throw new AppError(
          'DELIVERY_CONFLICT',
          `delivery_id ${delivery.delivery_id} was received as ${received.kept.quantity} of product ` +
            `${received.kept.productId}, not ${delivery.quantity} of product ${delivery.product_id}`,
        );
      case 'unknown-product':
        throw new AppError('UNKNOWN_PRODUCT', `product_id not in the catalog: ${delivery.product_id}`);
    }
  };
}
