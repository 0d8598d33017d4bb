import { actingFor } from '../domain/ownership';
import { orderEventSchema, type OrderEvent } from '../events/schemas';
import { applyOrderEvent } from '../inventory/reservations/order-events';
import { startEventConsumer } from './event-consumer';
import type { Runner, WorkerDeps } from './runner';

/** Who the ledger and reservation history name for changes made by order events. */
const ACTOR = 'order-events';

/**
 * Consumes the order service's events from `<CONSUMER_QUEUE_PREFIX>.order-events`, bound to
 * ORDERS_EXCHANGE: OrderCreated reserves, OrderCancelled releases, OrderCompleted and OrderPaid allocate,
 * OrderDelivered ships. Only
 * the publishers of ORDER_EVENT_PUBLISHERS are believed, and each one's events act for its owner:
 * they reserve as that owner and touch only that owner's orders.
 */
export async function startOrderEventsConsumer(deps: WorkerDeps): Promise<Runner> {
  const { config } = deps;
  const log = deps.logger.child({ component: 'order-events' });
  return startEventConsumer<OrderEvent>(deps, {
    name: 'order-events-consumer',
    consumer: 'order-events',
    queue: `${config.CONSUMER_QUEUE_PREFIX}.order-events`,
    exchange: config.ORDERS_EXCHANGE,
    routingKeys: ['order.created', 'order.cancelled', 'order.completed', 'order.paid', 'order.delivered'],
    schema: orderEventSchema,
    keyOf: (event) => event.orderId,
    publishers: config.ORDER_EVENT_PUBLISHERS,
    async apply(tx, event, owner) {
      const result = await applyOrderEvent(tx, event, { now: new Date(), actor: ACTOR, scope: actingFor(owner), config });
      log.info({ eventId: event.eventId, type: event.type, orderId: event.orderId, owner, ...result }, 'order event applied');
    },
  });
}
