import amqplib, { type ChannelModel } from 'amqplib';
import type { Logger } from '../logger';

type SetupHandler = (model: ChannelModel) => Promise<void>;

/**
 * A RabbitMQ connection that reconnects by itself and reruns every setup handler on each connect.
 * Given several broker URLs (the nodes of a cluster) it fails over: each attempt takes the next URL
 * in turn, and it waits (backoff with jitter) only once every URL of a round has failed.
 */
export type AmqpClient = {
  /**
   * The RabbitMQ user the connection logs in as (the first URL's, `guest` when it names none):
   * what it publishes carries it as `user_id`, which the broker checks.
   */
  user: string;
  isConnected(): boolean;
  /** Runs `setup` on the live connection now (if any) and after every reconnect: declare topology, open channels, start consumers. */
  onConnect(setup: SetupHandler): Promise<void>;
  /** Runs `setup` once on the live connection, if there is one (the next connect reruns the onConnect handlers anyway). */
  runNow(setup: SetupHandler): Promise<void>;
  /** Resolves once the first connection is up. */
  waitForConnect(): Promise<void>;
  close(): Promise<void>;
};

export type AmqpClientOptions = {
  connectionName: string;
  /** Longest wait between two rounds of attempts. */
  maxDelayMs: number;
  /**
   * Heartbeat timeout asked of the broker, in seconds (0: none). A peer silent that long counts
   * as gone: the broker closes the connection of a frozen process and hands its unacknowledged
   * messages to other consumers, and this side drops a connection to a broker that stopped answering.
   */
  heartbeatSeconds?: number;
};

const INITIAL_DELAY_MS = 200;
const CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_HEARTBEAT_SECONDS = 5;

/** Where a URL points, without its credentials: for logs. */
export function brokerAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
}

/** The URL with the heartbeat asked for, unless the URL names its own. */
function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

/** The part of a socket writeEachTurnOnce works with. */
type CorkableStream = { write: (...args: never[]) => boolean; cork(): void; uncork(): void };

/**
 * Sends what one turn of the event loop writes to the socket in one write. amqplib hands each frame
 * to the socket on its own (its Mux loop calls write once per queued frame), so a batch of publishes,
 * or a batch's acks beside its events, cost a system call and a packet per message — on loopback, the
 * receiver's delivery too. The socket is corked at a turn's first write and uncorked on the next
 * tick, so the turn's frames leave together in one writev, and nothing waits for a timer.
 */
export function writeEachTurnOnce(stream: CorkableStream): void {
  const write = stream.write;
  let corked = false;
  stream.write = (...args: never[]): boolean => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(() => {
        corked = false;
        stream.uncork();
      });
    }
    return write.apply(stream, args);
  };
}

/** The socket under an amqplib connection, when it is one writeEachTurnOnce can cork (amqplib does not type it). */
function socketOf(model: ChannelModel): CorkableStream | undefined {
  const stream = (model.connection as unknown as { stream?: Partial<CorkableStream> }).stream;
  return stream && typeof stream.write === 'function' && typeof stream.cork === 'function' && typeof stream.uncork === 'function'
    ? (stream as CorkableStream)
    : undefined;
}

/** Wait before round `round` (1 = after the first round of failures): doubling from 200 ms up to maxDelayMs, ±30% jitter. */
function roundDelay(round: number, maxDelayMs: number): number {
  const base = Math.min(maxDelayMs, INITIAL_DELAY_MS * 2 ** (round - 1));
  return Math.round(base * (0.7 + Math.random() * 0.6));
}

/** Opens the connection in the background; callers need not wait for the broker to be up. */
export function connectAmqp(urls: string | readonly string[], logger: Logger, options: AmqpClientOptions): Promise<AmqpClient> {
  const log = logger.child({ component: 'amqp', connection: options.connectionName });
  const heartbeat = options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
  const brokers = (typeof urls === 'string' ? [urls] : [...urls]).map((url) => withHeartbeat(url, heartbeat));
  if (brokers.length === 0) throw new Error('connectAmqp needs at least one broker URL');

  const handlers: SetupHandler[] = [];
  let current: ChannelModel | null = null;
  let next = 0;
  let failuresThisRound = 0;
  let round = 0;
  let timer: NodeJS.Timeout | null = null;
  const client = { closed: false };
  let markConnected: () => void = () => {};
  const firstConnect = new Promise<void>((resolve) => (markConnected = resolve));

  const schedule = (delayMs: number): void => {
    if (client.closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void attempt();
    }, delayMs);
    timer.unref();
  };

  const failed = (): void => {
    failuresThisRound++;
    if (failuresThisRound < brokers.length) {
      schedule(0);
      return;
    }
    failuresThisRound = 0;
    round++;
    schedule(roundDelay(round, options.maxDelayMs));
  };

  const attempt = async (): Promise<void> => {
    const url = brokers[next]!;
    next = (next + 1) % brokers.length;
    const broker = brokerAddress(url);
    let model: ChannelModel;
    try {
      model = await amqplib.connect(url, { clientProperties: { connection_name: options.connectionName }, timeout: CONNECT_TIMEOUT_MS });
    } catch (error) {
      log.warn({ err: error, broker }, 'RabbitMQ connection attempt failed');
      failed();
      return;
    }
    const socket = socketOf(model);
    if (socket) writeEachTurnOnce(socket);
    model.on('error', (error: Error) => log.warn({ err: error, broker }, 'RabbitMQ connection error'));
    model.on('handler-error', (error: Error, event: string) => log.error({ err: error, event }, 'RabbitMQ listener threw'));
    model.on('blocked', (reason: string) => log.warn({ reason, broker }, 'RabbitMQ blocked the connection'));
    const session = { open: true };
    model.on('close', (error?: Error) => {
      session.open = false;
      if (current !== model) return;
      current = null;
      if (client.closed) return;
      log.warn({ err: error, broker }, 'lost RabbitMQ connection; reconnecting');
      // the broker that just went away is the last to be tried again
      schedule(0);
    });
    try {
      for (const handler of handlers) await handler(model);
      if (!session.open) throw new Error('the connection closed while it was being set up');
    } catch (error) {
      log.warn({ err: error, broker }, 'setting up the RabbitMQ connection failed; reconnecting');
      await model.close().catch(() => {});
      failed();
      return;
    }
    if (client.closed) {
      await model.close().catch(() => {});
      return;
    }
    current = model;
    failuresThisRound = 0;
    round = 0;
    log.info({ broker }, 'connected to RabbitMQ');
    markConnected();
  };

  setImmediate(() => void attempt());

  return Promise.resolve({
    user: decodeURIComponent(new URL(brokers[0]!).username) || 'guest',
    isConnected: () => current !== null,
    async onConnect(setup) {
      handlers.push(setup);
      if (current) await setup(current);
    },
    async runNow(setup) {
      if (current) await setup(current);
    },
    waitForConnect: () => firstConnect,
    async close() {
      client.closed = true;
      handlers.length = 0;
      if (timer) clearTimeout(timer);
      const open = current;
      current = null;
      await open?.close().catch(() => {});
    },
  });
}
