import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import ts from 'typescript';
import { parseAllDocuments, parseDocument } from 'yaml';
import { environmentVariables, loadConfig } from '../../src/config';
import { queueDepth } from '../../src/metrics';
import { migrateEntry, serviceEntry } from '../helpers/image';

/**
 * The Kubernetes manifests, validated offline: `kubectl kustomize` renders each kustomization, every
 * object is checked against the Kubernetes JSON schemas of the `kubernetes-models` package (types,
 * required fields, enums, formats) and, through TypeScript's excess-property check on its types,
 * for fields Kubernetes does not know (a misspelt key would otherwise be dropped silently by the
 * API server). Then the objects are checked against each other and against the service.
 */
const root = path.resolve(__dirname, '../..');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: any };

type Validated = new (data: any) => { validate(): void };

/** The kubernetes-models class, module and type of each kind the manifests use. */
const models: Record<string, { model: Validated; module: string; type: string }> = {
  'v1/Namespace': { model: Namespace, module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/ServiceAccount': { model: ServiceAccount, module: 'kubernetes-models/v1/ServiceAccount', type: 'IServiceAccount' },
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'batch/v1/Job': { model: Job, module: 'kubernetes-models/batch/v1/Job', type: 'IJob' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
};
const modelOf = (manifest: Manifest) => models[`${manifest.apiVersion}/${manifest.kind}`];

function render(kustomization: string): Manifest[] {
  const text = execFileSync('kubectl', ['kustomize', path.join(root, kustomization)], { encoding: 'utf8' });
  return parseAllDocuments(text).map((document) => {
    const manifest = document.toJS() as Manifest;
    // kustomize folds long base64 values over several lines, which the API server's decoder skips
    if (manifest.kind === 'Secret' && manifest.data) {
      manifest.data = Object.fromEntries(Object.entries(manifest.data as Record<string, string>).map(([key, value]) => [key, value.replace(/\s/g, '')]));
    }
    return manifest;
  });
}

/** Schema errors of one object ('' when valid). */
function schemaErrors(manifest: Manifest): string {
  const model = modelOf(manifest);
  if (!model) return `${manifest.kind} ${manifest.metadata.name}: no schema for ${manifest.apiVersion} ${manifest.kind}`;
  try {
    new model.model(manifest).validate();
    return '';
  } catch (error) {
    return `${manifest.kind} ${manifest.metadata.name}: ${(error as Error).message}`;
  }
}

/** Fields no Kubernetes type has, and values of the wrong type, found by type-checking the objects as literals of the kubernetes-models types. */
function typeErrors(manifests: readonly Manifest[]): string[] {
  const file = path.join(root, 'deploy/kubernetes/rendered-manifests.ts');
  const source = manifests
    .map((manifest, index) => {
      const model = modelOf(manifest)!;
      return `import type { ${model.type} as T${index} } from '${model.module}';\nexport const m${index}: T${index} = ${JSON.stringify(manifest)};`;
    })
    .join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const base = ts.createCompilerHost(options);
  const host: ts.CompilerHost = {
    ...base,
    fileExists: (name) => name === file || base.fileExists(name),
    readFile: (name) => (name === file ? source : base.readFile(name)),
    getSourceFile: (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : base.getSourceFile(name, language, ...rest)),
  };
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file?.fileName === file)
    .map((diagnostic) => {
      const line = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start!).line;
      const manifest = manifests[Math.floor(line / 2)];
      return `${manifest ? `${manifest.kind} ${manifest.metadata.name}: ` : ''}${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
    });
}

/** What each environment's Secret `stockroom-secrets` holds, which the base leaves out (configmap.yaml, docs/operations.md). */
const secretVariables = ['DATABASE_URL', 'AMQP_URL', 'JWT_SECRET'];

/** Settings that may stay unset in production, and why. */
const unsetInProduction: Record<string, string> = {
  JWT_PUBLIC_KEY_FILE: 'an alternative to JWT_SECRET, which is set',
  JWT_JWKS_FILE: 'an alternative to JWT_SECRET, which is set',
  JWT_ISSUER: 'checked only when set',
  JWT_AUDIENCE: 'checked only when set',
};

/**
 * The settings whose default serves a laptop, not a cluster: those without a default, those whose
 * default is a loopback address (the database, the broker, the admin port), and those whose default
 * is an empty list (the event publishers: every event refused).
 */
function settingsWithoutProductionDefault(): string[] {
  const defaults = loadConfig({}) as Record<string, unknown>;
  const laptopOnly = (value: unknown): boolean =>
    value === undefined ||
    (typeof value === 'string' && /\b(127\.0\.0\.1|localhost)\b/.test(value)) ||
    (Array.isArray(value) && (value.length === 0 || value.some(laptopOnly))) ||
    (value instanceof Map && value.size === 0);
  return environmentVariables.filter((name) => laptopOnly(defaults[name]) && !(name in unsetInProduction));
}

const byKind = (manifests: readonly Manifest[], kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const named = (manifests: readonly Manifest[], kind: string, name: string) => {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe.each(['deploy/kubernetes/base', 'deploy/kubernetes/dev'])('%s', (kustomization) => {
  const manifests = render(kustomization);
  const deployments = byKind(manifests, 'Deployment');
  const containers = [...deployments, ...byKind(manifests, 'Job')].map((owner) => ({ owner, container: owner.spec.template.spec.containers[0] }));

  it('renders every object the service needs', () => {
    const kinds = manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`).sort();
    for (const expected of [
      'ConfigMap/stockroom-config',
      'Deployment/stockroom-api',
      'Deployment/stockroom-worker',
      'HorizontalPodAutoscaler/stockroom-api',
      'HorizontalPodAutoscaler/stockroom-worker',
      'Job/stockroom-migrate',
      'PodDisruptionBudget/stockroom-api',
      'PodDisruptionBudget/stockroom-worker',
      'Service/stockroom-api',
      'ServiceAccount/stockroom',
    ]) {
      expect(kinds).toContain(expected);
    }
  });

  it('validates against the Kubernetes schemas', () => {
    expect(manifests.map(schemaErrors).filter(Boolean)).toEqual([]);
  });

  it('uses no field Kubernetes does not know', () => {
    expect(typeErrors(manifests)).toEqual([]);
  });

  it('runs the entry points of the image, with its configuration and secrets', () => {
    const roles = Object.fromEntries(containers.map(({ owner, container }) => [owner.metadata.name, container.args]));
    expect(roles).toEqual({
      'stockroom-api': ['node', serviceEntry, '--role', 'api'],
      'stockroom-worker': ['node', serviceEntry, '--role', 'worker'],
      'stockroom-migrate': ['node', migrateEntry],
    });
    const configMaps = new Set(byKind(manifests, 'ConfigMap').map((manifest) => manifest.metadata.name));
    const secrets = new Set(byKind(manifests, 'Secret').map((manifest) => manifest.metadata.name));
    for (const { owner, container } of containers) {
      // the image's ENTRYPOINT (tini) stays: only its CMD is replaced
      expect({ owner: owner.metadata.name, command: container.command }).toEqual({ owner: owner.metadata.name, command: undefined });
      expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources.limits.memory).toEqual(expect.any(String));
      expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      const sources = container.envFrom as { configMapRef?: { name: string }; secretRef?: { name: string } }[];
      const configMap = sources.find((source) => source.configMapRef)!.configMapRef!.name;
      const secret = sources.find((source) => source.secretRef)!.secretRef!.name;
      expect(configMaps.has(configMap)).toBe(true);
      // the base leaves the Secret to each environment; an overlay that generates one must be referenced
      if (secrets.size > 0) expect(secrets.has(secret)).toBe(true);
    }
  });

  it('sets only variables Stockroom reads, with values it accepts', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const environment: Record<string, string> = {};
    for (const manifest of [...byKind(manifests, 'ConfigMap'), ...byKind(manifests, 'Secret')]) {
      const data = (manifest.data ?? {}) as Record<string, string>;
      for (const [key, value] of Object.entries(data)) {
        expect(environmentVariables).toContain(key);
        expect({ key, documented: readme.includes(`| \`${key}\``) || readme.includes(` / \`${key}\``) }).toEqual({ key, documented: true });
        environment[key] = manifest.kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value;
      }
    }
    // the base leaves JWT_SECRET to the Secret each environment creates
    const config = loadConfig({ JWT_SECRET: randomBytes(48).toString('base64'), ...environment });
    expect(config.ADMIN_HOST).toBe('0.0.0.0');
    expect(config.MIGRATE_ON_START).toBe(false);
    for (const deployment of deployments) {
      // a stop must finish (SHUTDOWN_TIMEOUT_MS) before the kubelet kills
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.SHUTDOWN_TIMEOUT_MS + 5000);
    }
    const ports = Object.fromEntries(
      containers.flatMap(({ container }) => (container.ports ?? []).map((port: { name: string; containerPort: number }) => [port.name, port.containerPort])),
    );
    expect(ports).toEqual({ http: config.PORT, admin: config.ADMIN_PORT });
  });

  it('sets every variable that has no safe default in production, in the ConfigMap or the Secret', () => {
    const configMap = named(manifests, 'ConfigMap', 'stockroom-config').data as Record<string, string>;
    const secrets = byKind(manifests, 'Secret');
    for (const secret of secrets) expect(Object.keys(secret.data ?? {})).toEqual(expect.arrayContaining(secretVariables));
    const present = new Set([...Object.keys(configMap), ...secretVariables]);
    const needed = settingsWithoutProductionDefault();
    expect(needed).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'AMQP_URL', 'JWT_SECRET', 'ADMIN_HOST', 'ORDER_EVENT_PUBLISHERS', 'CATALOG_EVENT_PUBLISHERS']),
    );
    expect(needed.filter((name) => !present.has(name))).toEqual([]);
    // a production pod: the base's settings, and each environment's Secret
    const production = loadConfig({
      ...configMap,
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://stockroom:secret@postgres.internal:5432/stockroom',
      AMQP_URL: 'amqps://stockroom:secret@rabbitmq.internal:5671',
      JWT_SECRET: randomBytes(48).toString('base64'),
    });
    expect(production.ORDER_EVENT_PUBLISHERS.size).toBeGreaterThan(0);
    expect(production.CATALOG_EVENT_PUBLISHERS.length).toBeGreaterThan(0);
  });

  it('probes /health/live and /health/ready on ports the containers name: the API port for the api, the admin port for a worker', () => {
    const probes = Object.fromEntries(
      deployments.map((deployment) => {
        const container = deployment.spec.template.spec.containers[0];
        const portNames = (container.ports as { name: string }[]).map((port) => port.name);
        const probe = (kind: string) => {
          expect(portNames).toContain(container[kind].httpGet.port);
          return `${container[kind].httpGet.port}${container[kind].httpGet.path}`;
        };
        return [deployment.metadata.name, [probe('startupProbe'), probe('livenessProbe'), probe('readinessProbe')]];
      }),
    );
    expect(probes).toEqual({
      'stockroom-api': ['http/health/live', 'http/health/live', 'http/health/ready'],
      'stockroom-worker': ['admin/health/live', 'admin/health/live', 'admin/health/ready'],
    });
  });

  it('points the Service, disruption budgets and autoscalers at the right pods, and keeps the admin port out of the Service', () => {
    const api = named(manifests, 'Deployment', 'stockroom-api');
    const worker = named(manifests, 'Deployment', 'stockroom-worker');
    for (const deployment of deployments) expect(matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
    const service = named(manifests, 'Service', 'stockroom-api');
    expect([matches(service.spec.selector, api.spec.template.metadata.labels), matches(service.spec.selector, worker.spec.template.metadata.labels)]).toEqual([
      true,
      false,
    ]);
    expect(service.spec.ports.map((port: { targetPort: string }) => port.targetPort)).toEqual(['http']);
    for (const [name, deployment, other] of [
      ['stockroom-api', api, worker],
      ['stockroom-worker', worker, api],
    ] as const) {
      const budget = named(manifests, 'PodDisruptionBudget', name);
      expect([
        matches(budget.spec.selector.matchLabels, deployment.spec.template.metadata.labels),
        matches(budget.spec.selector.matchLabels, other.spec.template.metadata.labels),
      ]).toEqual([true, false]);
      const autoscaler = named(manifests, 'HorizontalPodAutoscaler', name);
      expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(autoscaler.spec.maxReplicas).toBeGreaterThan(autoscaler.spec.minReplicas);
    }
  });

  it("scales workers on the depth of every allocation work queue: the adapter rule of docs/operations.md sums the service's exported gauge into the metric the autoscaler reads", () => {
    const autoscaler = named(manifests, 'HorizontalPodAutoscaler', 'stockroom-worker');
    const external = autoscaler.spec.metrics.find((metric: { type: string }) => metric.type === 'External').external;
    const operations = readFileSync(path.join(root, 'docs', 'operations.md'), 'utf8');
    const ruleBlock = /```yaml\n(externalRules:[\s\S]*?)```/.exec(operations)?.[1];
    expect(ruleBlock).toBeDefined();
    const [rule] = (parseDocument(ruleBlock!).toJS() as { externalRules: { seriesQuery: string; metricsQuery: string; name: { as: string } }[] }).externalRules;
    const exported = (queueDepth as unknown as { name: string }).name;
    expect(external.metric).toEqual({ name: rule!.name.as });
    expect(rule!.seriesQuery).toContain(exported);
    // the sum leaves out the retry and dead-letter queues, whatever the partitions and levels (PromQL anchors the pattern)
    const excluded = /queue!~"([^"]+)"/.exec(rule!.metricsQuery)?.[1];
    expect(excluded).toBeDefined();
    const counted = (name: string) => !new RegExp(`^(?:${excluded!})$`).test(name);
    const queue = loadConfig({}).ALLOCATION_QUEUE;
    expect([queue, `${queue}.p3`, `${queue}.quorum.p0.high`].filter(counted)).toEqual([queue, `${queue}.p3`, `${queue}.quorum.p0.high`]);
    expect([`${queue}.dead`, `${queue}.retry.1000ms`, `${queue}.quorum.dead`, `${queue}.quorum.retry.5000ms`].filter(counted)).toEqual([]);
  });
});

describe('the validator', () => {
  const manifests = render('deploy/kubernetes/base');
  const deployment = named(manifests, 'Deployment', 'stockroom-api');
  const altered = (change: (copy: Manifest) => void) => {
    const copy = structuredClone(deployment);
    change(copy);
    return copy;
  };

  it('finds a wrong type, a missing field and a misspelt one', () => {
    expect(schemaErrors(altered((copy) => (copy.spec.replicas = 'two')))).toMatch(/replicas must be integer/);
    expect(schemaErrors(altered((copy) => delete copy.spec.selector))).toMatch(/selector/);
    expect(typeErrors([altered((copy) => (copy.spec.template.spec.containers[0].readinessProbe.httpGet.paht = '/health/ready'))])).toEqual([
      expect.stringMatching(/paht/),
    ]);
  });
});
