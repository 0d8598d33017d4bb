import { baseAmqpUrl, rabbitmqctl, uniqueName } from './services';

export type TestVhost = { url: string; name: string; drop(): Promise<void> };

/** A RabbitMQ vhost of this test file's own, so its queues and dropped connections touch nothing else. */
export async function createTestVhost(label: string): Promise<TestVhost> {
  const name = uniqueName(label);
  const base = new URL(baseAmqpUrl());
  const user = decodeURIComponent(base.username || 'guest');
  await rabbitmqctl(['add_vhost', name]);
  await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  base.pathname = `/${encodeURIComponent(name)}`;
  return {
    url: base.toString(),
    name,
    async drop() {
      await rabbitmqctl(['delete_vhost', name]);
    },
  };
}

/** Closes every client connection of the vhost from the broker side, as a broker restart would. */
export async function closeVhostConnections(vhost: string): Promise<void> {
  await rabbitmqctl(['close_all_connections', '-p', vhost, 'closed by test']);
}
