import { recordCatalogueProduct } from '../catalogue/catalogue';
import { productCreatedSchema, type ProductCreatedEvent } from '../events/schemas';
import { startEventConsumer } from './event-consumer';
import type { Runner, WorkerDeps } from './runner';

/**
 * Consumes ProductCreated from `<CONSUMER_QUEUE_PREFIX>.catalog-events`, bound to CATALOG_EXCHANGE:
 * keeps the product record. Only the publishers of CATALOG_EVENT_PUBLISHERS are believed; the
 * catalogue belongs to no owner.
 */
export async function startCatalogEventsConsumer(deps: WorkerDeps): Promise<Runner> {
  const { config } = deps;
  return startEventConsumer<ProductCreatedEvent>(deps, {
    name: 'catalog-events-consumer',
    consumer: 'catalog-events',
    queue: `${config.CONSUMER_QUEUE_PREFIX}.catalog-events`,
    exchange: config.CATALOG_EXCHANGE,
    routingKeys: ['product.created'],
    schema: productCreatedSchema,
    keyOf: (event) => event.productId,
    publishers: new Map(config.CATALOG_EVENT_PUBLISHERS.map((user) => [user, user])),
    async apply(tx, event) {
      await recordCatalogueProduct(tx, { id: event.productId, sku: event.sku, name: event.name });
    },
  });
}
