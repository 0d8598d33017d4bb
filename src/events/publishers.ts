/**
 * Which consumed events are believed: those RabbitMQ vouches for. The broker refuses a message
 * whose `user_id` property differs from the user of the connection that published it, so a
 * `user_id` names its publisher for certain, while a message without one could come from anyone
 * allowed to write to the exchange. Each consumer is configured with the users that may publish to
 * it and the owner each one's events act for (ORDER_EVENT_PUBLISHERS, CATALOG_EVENT_PUBLISHERS).
 */
import type { MessageProperties, MessagePropertyHeaders } from 'amqplib';

/** The reason an event from no allowed publisher is dead-lettered with. */
export const UNAUTHENTICATED_PUBLISHER = 'unauthenticated_publisher';

/** On the copies Stockroom itself publishes of an event (retries, dead letters, replays): the user that first published it. */
export const PUBLISHER_HEADER = 'stockroom-publisher';

/**
 * The user that published a message, as the broker vouches for it; null when none is. A copy
 * Stockroom published itself (its `user_id` is Stockroom's own user, `ownUser`) names the first
 * publisher in PUBLISHER_HEADER, which is believed on such a copy only.
 */
export function publisherOf(properties: Pick<MessageProperties, 'userId' | 'headers'>, ownUser: string): string | null {
  const userId: unknown = properties.userId;
  if (typeof userId !== 'string' || userId === '') return null;
  if (userId !== ownUser) return userId;
  const named: unknown = properties.headers?.[PUBLISHER_HEADER];
  const text = Buffer.isBuffer(named) ? named.toString('utf8') : named;
  return typeof text === 'string' && text !== '' ? text : userId;
}

/** The header naming a message's publisher on the copies Stockroom makes of it; none when no publisher is vouched for. */
export function publisherHeaders(publisher: string | null): MessagePropertyHeaders {
  return publisher === null ? {} : { [PUBLISHER_HEADER]: publisher };
}
