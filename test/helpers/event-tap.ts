import amqplib, { type ChannelModel, type ConsumeMessage } from 'amqplib';

/** A message read off an exchange, with its body parsed as JSON. */
export type TappedMessage = { routingKey: string; messageId: string | undefined; type: string | undefined; body: any; raw: ConsumeMessage };

export type EventTap = {
  messages: TappedMessage[];
  /** Polls until at least `count` messages arrived; throws after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<TappedMessage[]>;
  close(): Promise<void>;
};

/** Binds an exclusive queue to `exchange` with `pattern` and records everything that arrives. */
export async function tapExchange(url: string, exchange: string, pattern = '#'): Promise<EventTap> {
  const connection: ChannelModel = await amqplib.connect(url);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, pattern);
  const messages: TappedMessage[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      messages.push({
        routingKey: message.fields.routingKey,
        messageId: message.properties.messageId as string | undefined,
        type: message.properties.type as string | undefined,
        body: JSON.parse(message.content.toString('utf8')),
        raw: message,
      });
    },
    { noAck: true },
  );
  return {
    messages,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages on ${exchange}, got ${messages.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return messages;
    },
    async close() {
      // the broker may already have dropped the connection (tests do that on purpose)
      await connection.close().catch(() => undefined);
    },
  };
}

/** Polls `check` until it returns true; throws after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
