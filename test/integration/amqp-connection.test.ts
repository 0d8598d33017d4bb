import pino from 'pino';
import { connectAmqp, type AmqpClient } from '../../src/amqp/connection';
import { createPublisher, PublishError } from '../../src/amqp/publisher';
import { registry } from '../../src/metrics';
import { closeVhostConnections, createTestVhost, type TestVhost } from '../helpers/amqp';
import { waitFor } from '../helpers/allocations';
import { rabbitmqctl } from '../helpers/services';
import { freePort } from '../helpers/stack';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
let vhost: TestVhost;
const clients: AmqpClient[] = [];

beforeAll(async () => {
  vhost = await createTestVhost('amqp-connection');
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await vhost.drop();
});

async function connect(urls: string[], name: string, heartbeatSeconds?: number): Promise<AmqpClient> {
  const client = await connectAmqp(urls, logger, { connectionName: name, maxDelayMs: 200, ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }) });
  clients.push(client);
  return client;
}

/** The heartbeat timeout (seconds) the broker agreed on with each open connection of the vhost, by connection name. */
async function heartbeats(): Promise<Map<string, number>> {
  type Listed = { vhost: string; client_properties: [string, string, unknown][]; timeout: number };
  const listed = JSON.parse(await rabbitmqctl(['list_connections', '--formatter', 'json', 'vhost', 'client_properties', 'timeout'])) as Listed[];
  return new Map(
    listed
      .filter((connection) => connection.vhost === vhost.name)
      .map((connection) => [String(connection.client_properties.find(([key]) => key === 'connection_name')?.[2]), connection.timeout]),
  );
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const value = (metric?.values as { labels: Record<string, string>; value: number }[] | undefined)?.find((entry) =>
    Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted),
  );
  return value?.value ?? 0;
}

describe('the RabbitMQ connection', () => {
  it('fails over to the next broker URL when the first does not answer, and asks for a 5 s heartbeat', async () => {
    const deadPort = await freePort();
    const client = await connect([`amqp://guest:guest@127.0.0.1:${deadPort}`, vhost.url], 'failover-test');
    await client.waitForConnect();
    expect(client.isConnected()).toBe(true);
    expect((await heartbeats()).get('failover-test')).toBe(5);
  });

  it('uses the heartbeat it is given', async () => {
    const client = await connect([vhost.url], 'heartbeat-test', 2);
    await client.waitForConnect();
    expect((await heartbeats()).get('heartbeat-test')).toBe(2);
  });

  it('reconnects after the broker closed it and runs its setup handlers again', async () => {
    const client = await connect([vhost.url], 'reconnect-test');
    let setups = 0;
    await client.onConnect(() => {
      setups++;
      return Promise.resolve();
    });
    await client.waitForConnect();
    const before = setups;
    await closeVhostConnections(vhost.name);
    await waitFor('a reconnect', () => Promise.resolve((setups > before && client.isConnected()) || undefined));
  });
});

describe('publishing to a queue', () => {
  it('sends what one turn publishes to the socket in one write', async () => {
    const client = await connect([vhost.url], 'coalescing-test');
    await client.waitForConnect();
    await client.runNow(async (model) => {
      const channel = await model.createConfirmChannel();
      await channel.assertQueue('coalesced', { durable: false });
      const socket = (model.connection as unknown as { stream: Record<'_write' | '_writev', (...args: unknown[]) => void> }).stream;
      const singleWrites = jest.spyOn(socket, '_write');
      const vectorWrites = jest.spyOn(socket, '_writev');
      for (let index = 0; index < 50; index++) channel.sendToQueue('coalesced', Buffer.from(String(index)));
      await channel.waitForConfirms();
      // without the cork, amqplib's loop hands the socket one frame at a time: fifty writes
      expect(singleWrites.mock.calls.length + vectorWrites.mock.calls.length).toBe(1);
      expect(vectorWrites.mock.calls[0]?.[0]).toHaveLength(50);
      expect((await channel.checkQueue('coalesced')).messageCount).toBe(50);
      await channel.close();
    });
  });

  it('rejects a message no queue takes (RabbitMQ returns it), counts and reports it, and confirms the rest', async () => {
    const client = await connect([vhost.url], 'publisher-test');
    await client.waitForConnect();
    const returned: string[] = [];
    const publisher = await createPublisher(client, logger, { onReturned: (routingKey) => returned.push(routingKey) });
    await waitFor('the publisher channel', () => Promise.resolve(publisher.isReady() || undefined));
    await client.runNow(async (model) => {
      const channel = await model.createChannel();
      await channel.assertQueue('present', { durable: true });
      await channel.close();
    });
    const before = await metricValue('stockroom_unroutable_publishes_total', { queue: 'absent' });

    const outcomes = await Promise.allSettled([
      publisher.publish('present', Buffer.from('{}'), { messageId: 'm-1' }, 5000),
      publisher.publish('absent', Buffer.from('{}'), { messageId: 'm-2' }, 5000),
      publisher.publish('present', Buffer.from('{}'), { messageId: 'm-3' }, 5000),
      publisher.publish('absent', Buffer.from('{}'), { messageId: 'm-4' }, 5000),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    const refusal = (outcomes[1] as PromiseRejectedResult).reason as Error;
    expect(refusal).toBeInstanceOf(PublishError);
    expect(refusal.message).toMatch(/returned.*absent/);
    expect(returned).toEqual(['absent', 'absent']);
    expect((await metricValue('stockroom_unroutable_publishes_total', { queue: 'absent' })) - before).toBe(2);

    // the same message id again, now that a queue takes it, is confirmed: a return is used up by its own publish
    await client.runNow(async (model) => {
      const channel = await model.createChannel();
      await channel.assertQueue('absent', { durable: true });
      await channel.close();
    });
    await expect(publisher.publish('absent', Buffer.from('{}'), { messageId: 'm-2' }, 5000)).resolves.toBeUndefined();
    await publisher.close();
  });
});
