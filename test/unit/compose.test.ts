import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config';
import { execForm, healthcheckEntry, migrateEntry, readDockerfile, serviceEntry } from '../helpers/image';

const root = path.resolve(__dirname, '../..');
type Service = {
  image?: string;
  hostname?: string;
  profiles?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown>;
  build?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
};
const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { args, stages } = readDockerfile();
const runtime = stages.at(-1)!;
const instruction = (keyword: string) => runtime.instructions.filter((entry) => entry.keyword === keyword).at(-1)?.args;

describe('the Dockerfile', () => {
  it('builds in one stage and runs from a slim one with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.find((stage) => stage.instructions.some((entry) => entry.args.includes('npm run build')))).toBeDefined();
    expect(runtime.from).toMatch(/-slim$/);
    const installs = stages.flatMap((stage) => stage.instructions.filter((entry) => entry.keyword === 'RUN' && /npm (ci|install)/.test(entry.args)));
    const copied = runtime.instructions.filter((entry) => entry.keyword === 'COPY' && entry.args.includes('--from=')).map((entry) => entry.args);
    const dependencyStage = stages.find((stage) => copied.some((copy) => copy.includes(`--from=${stage.name} `) && copy.includes('node_modules')))!;
    expect(dependencyStage.instructions.some((entry) => entry.args.includes('npm ci --omit=dev'))).toBe(true);
    expect(runtime.instructions.some((entry) => entry.keyword === 'RUN' && /npm (ci|install)/.test(entry.args))).toBe(false);
    expect(installs.length).toBeGreaterThanOrEqual(2);
  });

  it('pins every base image to an exact version', () => {
    for (const stage of stages) expect(stage.from).toMatch(/^[a-z/]+:\d+\.\d+\.\d+-[a-z]+-slim$|@sha256:[0-9a-f]{64}$/);
    expect(args.NODE_IMAGE).toMatch(/^node:22\.\d+\.\d+-bookworm-slim$/);
  });

  it('runs node on the compiled entry point under tini, as a user other than root, with a HEALTHCHECK', () => {
    expect(execForm(instruction('ENTRYPOINT')!)).toEqual(['/usr/bin/tini', '--']);
    expect(execForm(instruction('CMD')!)).toEqual(['node', serviceEntry]);
    expect(instruction('USER')).toMatch(/^(?!root$|0$)\S+$/);
    expect(execForm(instruction('HEALTHCHECK')!)).toEqual(['node', healthcheckEntry]);
  });
});

describe('docker-compose.yml', () => {
  it('runs the image with the commands the tests start the stack with', () => {
    const commands = Object.fromEntries(Object.entries(compose.services).flatMap(([name, service]) => (service.command ? [[name, service.command]] : [])));
    expect(commands).toEqual({
      migrate: ['node', migrateEntry],
      api: ['node', serviceEntry, '--role', 'api'],
      worker: ['node', serviceEntry, '--role', 'worker'],
      'api-cluster': ['node', serviceEntry, '--role', 'api'],
      'worker-cluster': ['node', serviceEntry, '--role', 'worker'],
    });
    for (const name of Object.keys(commands)) expect(compose.services[name]!.build).toBe('.');
  });

  it('gives each event publisher a RabbitMQ user that may write to its own exchange only, and believes only those users', () => {
    const defaultOf = (value: string) => value.replace(/^\$\{\w+:-(.*)\}$/, '$1');
    const environment = compose.services.api!.environment!;
    const config = loadConfig({
      ORDER_EVENT_PUBLISHERS: defaultOf(environment.ORDER_EVENT_PUBLISHERS!),
      CATALOG_EVENT_PUBLISHERS: defaultOf(environment.CATALOG_EVENT_PUBLISHERS!),
    });
    expect([...config.ORDER_EVENT_PUBLISHERS.keys()]).toEqual(['orders-svc']);
    expect(config.CATALOG_EVENT_PUBLISHERS).toEqual(['catalog-svc']);
    const init = compose.services['rabbitmq-publishers'] as Service & { volumes?: string[] };
    expect(init.image).toBe(compose.services.rabbitmq!.image);
    expect(init.volumes).toEqual(['./deploy/rabbitmq-publishers.sh:/rabbitmq-publishers.sh:ro']);
    const script = readFileSync(path.join(root, 'deploy/rabbitmq-publishers.sh'), 'utf8');
    expect(script).toMatch(/declare permission vhost=\/ user="\$1" configure='\^\$' write=.* read='\^\$'/);
    expect(script).toContain('"${ORDERS_PUBLISHER_USER:-orders-svc}"');
    expect(script).toContain('"${CATALOG_PUBLISHER_USER:-catalog-svc}"');
  });

  it('gives Stockroom longer to stop than its own shutdown timeout', () => {
    const grace = Number(/^(\d+)s$/.exec(compose.services.api!.stop_grace_period!)![1]) * 1000;
    expect(grace).toBeGreaterThan(loadConfig({}).SHUTDOWN_TIMEOUT_MS);
  });

  it('has Postgres 15, RabbitMQ 3.10 with its management UI, pinned, with health checks and named volumes', () => {
    expect(compose.services.postgres!.image).toMatch(/^postgres:15\.\d+-bookworm$/);
    expect(compose.services.rabbitmq!.image).toMatch(/^rabbitmq:3\.10\.\d+-management$/);
    expect(compose.services.rabbitmq!.ports).toEqual(['15672:15672']);
    expect(compose.services.postgres!.healthcheck!.test.join(' ')).toContain('pg_isready');
    expect(compose.services.rabbitmq!.healthcheck!.test).toContain('rabbitmq-diagnostics');
    expect(Object.keys(compose.volumes)).toEqual(['postgres-data', 'rabbitmq-data', 'rabbitmq-1-data', 'rabbitmq-2-data', 'rabbitmq-3-data']);
  });

  it('has an optional cluster profile: three RabbitMQ nodes that find each other by name, and an api and worker in quorum mode trying every node', () => {
    const nodes = ['rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3'];
    const profiled = Object.entries(compose.services)
      .filter(([, service]) => service.profiles?.includes('cluster'))
      .map(([name]) => name);
    expect(profiled.sort()).toEqual([...nodes, 'api-cluster', 'rabbitmq-cluster-publishers', 'worker-cluster'].sort());
    const conf = readFileSync(path.join(root, 'deploy/rabbitmq-cluster.conf'), 'utf8');
    expect(conf).toMatch(/^cluster_formation\.peer_discovery_backend = classic_config$/m);
    for (const [index, name] of nodes.entries()) {
      const node = compose.services[name]!;
      expect(node.image).toBe(compose.services.rabbitmq!.image);
      expect(node.hostname).toBe(name);
      expect(node.volumes).toEqual(['./deploy/rabbitmq-cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro', `${name}-data:/var/lib/rabbitmq`]);
      expect(node.environment!.RABBITMQ_ERLANG_COOKIE).toBe(compose.services['rabbitmq-1']!.environment!.RABBITMQ_ERLANG_COOKIE);
      expect(conf).toContain(`cluster_formation.classic_config.nodes.${index + 1} = rabbit@${name}`);
    }
    for (const name of ['api-cluster', 'worker-cluster']) {
      const config = loadConfig({
        AMQP_URL: compose.services[name]!.environment!.AMQP_URL!.replaceAll('${RABBITMQ_PASSWORD:-stockroom}', 'secret'),
        AMQP_CLUSTER: compose.services[name]!.environment!.AMQP_CLUSTER,
      });
      expect(config.AMQP_CLUSTER).toBe('quorum');
      expect(config.AMQP_URL.map((url) => new URL(url).hostname)).toEqual(nodes);
      expect(Object.keys(compose.services[name]!.depends_on!)).toEqual(expect.arrayContaining(nodes));
    }
    // beside the single-node api, never on its ports
    expect(compose.services['api-cluster']!.ports).toEqual(['3001:3000', '127.0.0.1:9465:9464']);
  });

  it('publishes the API on every interface and the admin port (/metrics, /docs) on the host loopback only', () => {
    expect(compose.services.api!.ports).toEqual(['3000:3000', '127.0.0.1:9464:9464']);
    expect(compose.services.worker!.ports).toBeUndefined();
    for (const name of ['api', 'worker']) expect(compose.services[name]!.environment!.ADMIN_HOST).toBe('0.0.0.0');
  });

  it('runs in development with a documented secret, which production refuses', () => {
    expect(composeText).toContain('NODE_ENV: ${NODE_ENV:-development}');
    const secret = /JWT_SECRET: \$\{JWT_SECRET:-([^}]+)\}/.exec(composeText)?.[1];
    expect(secret).toBe('compose-local-secret-change-me');
    expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET: secret }).JWT_SECRET).toBe(secret);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret })).toThrow(/JWT_SECRET: is a published default/);
  });
});
