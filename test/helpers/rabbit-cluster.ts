import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './allocations';
import { freePort } from './stack';

const exec = promisify(execFile);

/** One RabbitMQ node of a test cluster: its Erlang name, AMQP port and URL (guest/guest, vhost /). */
export type RabbitNode = { name: string; port: number; url: string; pid: number };

export type RabbitCluster = {
  nodes: RabbitNode[];
  /** Every node's AMQP URL, in node order: what AMQP_URL takes, comma-separated. */
  urls: string[];
  /** Runs rabbitmqctl against a node (the first running one by default). */
  ctl(args: readonly string[], node?: RabbitNode): Promise<string>;
  /** Names of the nodes leading the queues of a vhost, by queue (quorum queues only). */
  leaders(vhost: string): Promise<Map<string, string>>;
  /** Kills a node at once (SIGKILL to its process group), as a crash or a lost machine would. */
  kill(node: RabbitNode): Promise<void>;
  /** Stops every node (SIGTERM, then SIGKILL after 10 s) and removes their data. */
  stop(): Promise<void>;
  /** What the nodes wrote to stdout and stderr, for a failing test to show. */
  logs(): string;
};

const ROOT = path.join(tmpdir(), 'stockroom-rabbit-clusters');

/**
 * The directory of RabbitMQ's own scripts (rabbitmq-server, rabbitmqctl): RABBITMQ_SBIN, the Debian
 * package's (whose /usr/sbin wrappers would switch to the rabbitmq user and the shared node's
 * cookie), or wherever rabbitmq-server is on the PATH.
 */
function rabbitScripts(): string {
  const candidates = [process.env.RABBITMQ_SBIN, '/usr/lib/rabbitmq/bin', ...(process.env.PATH ?? '').split(':')].filter(
    (dir): dir is string => dir !== undefined && dir !== '',
  );
  const found = candidates.find((dir) => existsSync(path.join(dir, 'rabbitmq-server')) && existsSync(path.join(dir, 'rabbitmqctl')));
  if (!found) throw new Error('RabbitMQ is not installed here: no rabbitmq-server found (set RABBITMQ_SBIN to its sbin directory)');
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Removes clusters whose test process died without stopping them (a killed jest worker): their
 * nodes are killed by the process group recorded at start, checked against the node name so a
 * reused pid is never touched.
 */
function reapOrphans(): void {
  if (!existsSync(ROOT)) return;
  for (const entry of readdirSync(ROOT)) {
    const dir = path.join(ROOT, entry);
    let state: { owner: number; nodes: { name: string; pid: number }[] };
    try {
      state = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as typeof state;
    } catch {
      continue;
    }
    if (alive(state.owner)) continue;
    for (const node of state.nodes) {
      const cmdline = existsSync(`/proc/${node.pid}/cmdline`) ? readFileSync(`/proc/${node.pid}/cmdline`, 'utf8') : '';
      if (cmdline.includes('rabbitmq-server') || cmdline.includes(node.name)) killGroup(node.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts a RabbitMQ cluster of `size` nodes on this machine for one test file, beside (never
 * touching) the shared broker: each node has its own name, AMQP and distribution ports, data and
 * log directories, an empty plugins file, a config file of its own and an Erlang cookie of the
 * cluster's own. Nodes 2.. join node 1 with `rabbitmqctl join_cluster`. Takes about 10 s on two
 * cores. Stop it in afterAll; a cluster whose test process died is removed by the next start.
 */
export async function startRabbitCluster(label: string, size = 3): Promise<RabbitCluster> {
  const sbin = rabbitScripts();
  reapOrphans();
  const id = `${label.replace(/[^a-z0-9]+/gi, '').slice(0, 12)}${randomBytes(3).toString('hex')}`;
  const dir = path.join(ROOT, id);
  const home = path.join(dir, 'home');
  mkdirSync(home, { recursive: true });
  writeFileSync(path.join(home, '.erlang.cookie'), randomBytes(18).toString('hex').toUpperCase(), { mode: 0o400 });
  writeFileSync(path.join(dir, 'enabled_plugins'), '');
  // stands in for /etc/rabbitmq/rabbitmq-env.conf, which names the shared node
  writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');

  const nodes: RabbitNode[] = [];
  let output = '';
  const state = { owner: process.pid, nodes: [] as { name: string; pid: number }[] };
  const saveState = () => writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
  saveState();

  const ctl = async (args: readonly string[], node?: RabbitNode): Promise<string> => {
    const target = node ?? nodes.find((candidate) => alive(candidate.pid));
    if (!target) throw new Error('no node of the cluster is running');
    const { stdout } = await exec(path.join(sbin, 'rabbitmqctl'), ['-n', target.name, ...args], { env: { ...process.env, HOME: home }, timeout: 60_000 });
    return stdout;
  };

  const stop = async (): Promise<void> => {
    const running = nodes.filter((node) => alive(node.pid));
    for (const node of running) killGroup(node.pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (running.some((node) => alive(node.pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    for (const node of running) killGroup(node.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let index = 1; index <= size; index++) {
      const port = await freePort();
      const distPort = await freePort();
      const name = `${id}-${index}@localhost`;
      const nodeDir = path.join(dir, `node${index}`);
      mkdirSync(nodeDir, { recursive: true });
      writeFileSync(path.join(nodeDir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
      const child = spawn(path.join(sbin, 'rabbitmq-server'), [], {
        env: {
          ...process.env,
          HOME: home,
          RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
          RABBITMQ_NODENAME: name,
          RABBITMQ_NODE_PORT: String(port),
          RABBITMQ_DIST_PORT: String(distPort),
          RABBITMQ_MNESIA_BASE: path.join(nodeDir, 'mnesia'),
          RABBITMQ_LOG_BASE: path.join(nodeDir, 'log'),
          RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
          RABBITMQ_CONFIG_FILE: path.join(nodeDir, 'rabbitmq'),
          ERL_EPMD_ADDRESS: '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        // its own process group: the script, the Erlang VM and its helpers go down together
        detached: true,
      });
      child.stdout.on('data', (chunk: Buffer) => (output += `[node${index}] ${chunk.toString()}`));
      child.stderr.on('data', (chunk: Buffer) => (output += `[node${index}] ${chunk.toString()}`));
      nodes.push({ name, port, url: `amqp://guest:guest@127.0.0.1:${port}`, pid: child.pid! });
      state.nodes.push({ name, pid: child.pid! });
      saveState();
    }
    for (const node of nodes) {
      await waitFor(
        `RabbitMQ node ${node.name} to start`,
        async () => {
          if (!alive(node.pid)) throw new Error(`RabbitMQ node ${node.name} exited:\n${output}`);
          return ctl(['await_startup', '--timeout', '5'], node).then(
            () => true,
            () => undefined,
          );
        },
        60_000,
      );
    }
    for (const node of nodes.slice(1)) {
      await ctl(['stop_app'], node);
      await ctl(['join_cluster', nodes[0]!.name], node);
      await ctl(['start_app'], node);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes,
    urls: nodes.map((node) => node.url),
    ctl,
    async leaders(vhost) {
      const text = await ctl(['list_queues', '-p', vhost, '--quiet', '--no-table-headers', 'name', 'leader']);
      return new Map(
        text
          .split('\n')
          .map((line) => line.trim().split(/\s+/))
          .filter((fields) => fields.length === 2)
          .map(([queue, leader]) => [queue!, leader!]),
      );
    },
    async kill(node) {
      killGroup(node.pid, 'SIGKILL');
      await waitFor('the node to die', () => Promise.resolve(alive(node.pid) ? undefined : true), 10_000);
    },
    stop,
    logs: () => output,
  };
}
