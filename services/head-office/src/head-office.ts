import { statusTopic, toAppError } from '@spectrum-grocers/contract';
import { enqueue, inTransaction, type HqContext } from '@spectrum-grocers/hq';
import { faviconRoute, loadProductCatalog, textRoute, type HttpRoute } from '@spectrum-grocers/runtime';
import { createLedgerHandlers, firstSighting, type LedgerHandlers } from './ledger.js';
import { HEAD_OFFICE_PAGE, HEAD_OFFICE_SCRIPT, HEAD_OFFICE_STYLE } from './page.js';
import { createPresence } from './presence.js';
import { chainPricesFor, priceRoutes, SERVICE } from './prices.js';
import { ledgerRoute } from './ledger-route.js';

export interface HeadOffice {
  readonly consumes: LedgerHandlers;
  readonly watches: { filters: readonly string[]; onMessage(topic: string, payload: Buffer): void };
  readonly routes: readonly HttpRoute[];
}

/**
 * The head office of one replica: the ledger's handlers, the stores' presence it watches, and
 * the page with its JSON. A store is first heard of by an event (in the handler's transaction) or
 * by a status (in a transaction of its own): either way it is sent the chain's prices once.
 */
export function createHeadOffice({ config, log, pool }: HqContext): HeadOffice {
  const chain = config.topics.chain;
  const catalog = loadProductCatalog(config.catalogFile);
  const sighted = firstSighting(chainPricesFor(chain));
  const presence = createPresence(chain);
  const welcomed = new Set<string>();

  /**
   * A store seen online before any of its events comes through the intake: recorded as one of
   * the service's stores (so a replica takes it and sends its outbox) and sent the chain's prices
   * before its first customer pays.
   */
  function welcome(store: string): void {
    if (welcomed.has(store)) return;
    welcomed.add(store);
    inTransaction(pool, async (tx) => {
      await tx.query('INSERT INTO hq_stores (service, store) VALUES ($1, $2) ON CONFLICT DO NOTHING', [SERVICE, store]);
      await enqueue(tx, SERVICE, await sighted(tx, store));
    }).catch((err: unknown) => {
      welcomed.delete(store); // its next status tries again
      log.warn({ err: toAppError(err), store }, `could not record store ${store}`);
    });
  }

  return {
    consumes: createLedgerHandlers({ sighted, log }),
    watches: {
      filters: [statusTopic({ chain, store: '+' }, '+')],
      onMessage(topic, payload) {
        const store = presence.record(topic, payload);
        if (store !== undefined) welcome(store);
      },
    },
    routes: [
      textRoute('/', "The head office's page: every store, its takings, stock and presence", HEAD_OFFICE_PAGE, 'html'),
      textRoute('/head-office.css', "The page's stylesheet", HEAD_OFFICE_STYLE, 'css'),
      textRoute('/head-office.js', "The page's script", HEAD_OFFICE_SCRIPT, 'js'),
      faviconRoute(),
      ledgerRoute({ pool, presence, catalog, chain, replica: config.options.REPLICA_ID }),
      ...priceRoutes({ pool, chain, catalog, log }),
    ],
  };
}
