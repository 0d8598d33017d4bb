import pino from 'pino';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { createPublisher } from '../../src/amqp/publisher';
import { waitFor } from '../helpers/allocations';
import { startRabbitCluster, type RabbitCluster } from '../helpers/rabbit-cluster';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
let cluster: RabbitCluster;
const clients: AmqpClient[] = [];

beforeAll(async () => {
  cluster = await startRabbitCluster('failover');
}, 120_000);
afterAll(async () => {
  for (const client of clients) await client.close();
  await cluster.stop();
});

/** Declares a quorum queue replicated on every node, on each connect. */
async function declareQueue(client: AmqpClient, queue: string): Promise<void> {
  await client.onConnect(async (model) => {
    const channel = await model.createChannel();
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.close();
  });
}

describe('a client of a three-node cluster', () => {
  it('moves to another node when its node dies, and the quorum queue keeps every confirmed message', async () => {
    const status = await cluster.ctl(['cluster_status', '--formatter', 'json']);
    expect((JSON.parse(status) as { running_nodes: string[] }).running_nodes).toHaveLength(3);

    const client = await connectAmqp(cluster.urls, logger, { connectionName: 'failover-client', maxDelayMs: 500, heartbeatSeconds: 2 });
    clients.push(client);
    await declareQueue(client, 'jobs');
    await client.waitForConnect();
    const publisher = await createPublisher(client, logger);
    await waitFor('the publisher', () => Promise.resolve(publisher.isReady() || undefined));

    const publishAll = (from: number, count: number) =>
      Promise.all(Array.from({ length: count }, (_, index) => publisher.publish('jobs', Buffer.from('{}'), { messageId: `m-${from + index}` }, 10_000)));
    await publishAll(0, 100);

    // the client went to the first URL; that node also leads the queue it declared
    const leader = (await cluster.leaders('/')).get('jobs');
    expect(leader).toBe(cluster.nodes[0]!.name);
    await cluster.kill(cluster.nodes[0]!);

    await waitFor('the client to reconnect to another node', () => Promise.resolve((client.isConnected() && publisher.isReady()) || undefined), 30_000);
    await waitFor(
      'a new leader of the queue',
      async () => {
        const now = (await cluster.leaders('/').catch(() => new Map<string, string>())).get('jobs');
        return now !== undefined && now !== cluster.nodes[0]!.name ? now : undefined;
      },
      30_000,
    );
    await publishAll(100, 100);

    const received = new Set<string>();
    await client.runNow(async (model) => {
      const channel = await model.createChannel();
      await channel.prefetch(500);
      await channel.consume('jobs', (message) => {
        if (!message) return;
        received.add(String(message.properties.messageId));
        channel.ack(message);
      });
    });
    await waitFor('every message', () => Promise.resolve(received.size === 200 || undefined), 30_000);
    expect(received.size).toBe(200);
  });
});
