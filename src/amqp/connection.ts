import amqplib, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from '../logger';

type SetupHandler = (model: ChannelModel) => Promise<void>;

/** A RabbitMQ connection that reconnects by itself (backoff with jitter) and reruns every setup handler on each connect. */
export type AmqpClient = {
  isConnected(): boolean;
  /** Runs `setup` on the live connection now (if any) and after every reconnect: declare topology, open channels, start consumers. */
  onConnect(setup: SetupHandler): Promise<void>;
  /** Resolves once the first connection is up. */
  waitForConnect(): Promise<void>;
  close(): Promise<void>;
};

export type AmqpClientOptions = { connectionName: string; maxDelayMs: number };

/** Opens the connection in the background; callers need not wait for the broker to be up. */
export async function connectAmqp(url: string, logger: Logger, options: AmqpClientOptions): Promise<AmqpClient> {
  const log = logger.child({ component: 'amqp', connection: options.connectionName });
  const handlers: SetupHandler[] = [];
  let current: ChannelModel | null = null;

  const connection: RecoveringChannelModel = await amqplib.connect(url, {
    clientProperties: { connection_name: options.connectionName },
    recovery: {
      initialDelay: 200,
      maxDelay: options.maxDelayMs,
      factor: 2,
      jitter: 0.3,
      maxRetries: Infinity,
      waitForConnect: false,
      setup: async (model: ChannelModel) => {
        for (const handler of handlers) await handler(model);
      },
    },
  });

  connection.on('connect', (model: ChannelModel) => {
    current = model;
    log.info('connected to RabbitMQ');
  });
  connection.on('disconnect', (error: Error) => {
    current = null;
    log.warn({ err: error }, 'lost RabbitMQ connection; reconnecting');
  });
  connection.on('connect-failed', (error: Error) => log.warn({ err: error }, 'RabbitMQ connection attempt failed'));
  connection.on('error', (error: Error) => log.warn({ err: error }, 'RabbitMQ connection error'));
  connection.on('handler-error', (error: Error, event: string) => log.error({ err: error, event }, 'RabbitMQ listener threw'));
  connection.on('blocked', (reason: string) => log.warn({ reason }, 'RabbitMQ blocked the connection'));

  return {
    isConnected: () => current !== null,
    async onConnect(setup) {
      handlers.push(setup);
      if (current) await setup(current);
    },
    async waitForConnect() {
      await connection.waitForConnect();
    },
    async close() {
      handlers.length = 0;
      await connection.close();
      current = null;
    },
  };
}
