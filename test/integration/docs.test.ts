import { startTestApp, type TestApp } from '../helpers/app';

let t: TestApp;
let doc: {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, Schema> };
};
type Operation = {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, Media> }>;
};
type Media = { schema: Schema; example?: unknown };
type Schema = { $ref?: string; properties?: Record<string, Schema>; type?: string; format?: string };

beforeAll(async () => {
  t = await startTestApp('docs');
  const response = await t.admin('/docs/json');
  expect(response.status).toBe(200);
  doc = (await response.json()) as typeof doc;
});
afterAll(async () => t.close());

/** Every documented API operation, keyed "METHOD /path/{param}". */
function apiOperations(): [string, Operation][] {
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/api/v1/'))
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as [string, Operation]));
}

describe('the OpenAPI document at /docs/json', () => {
  it('lists every registered /api/v1 route', () => {
    const registered = t.app.routeList
      .filter((route) => route.url.startsWith('/api/v1/'))
      .map((route) => `${route.method} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    expect(registered.length).toBeGreaterThan(0);
    expect(
      apiOperations()
        .map(([key]) => key)
        .sort(),
    ).toEqual([...new Set(registered)].sort());
  });

  it('gives every API operation tags, a summary, an operationId, bearer security and an example for its success answer', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [key, operation] of apiOperations()) {
      expect({ key, tags: operation.tags?.length, summary: Boolean(operation.summary) }).toEqual({ key, tags: 1, summary: true });
      expect({ key, operationId: operation.operationId }).toEqual({ key, operationId: expect.stringMatching(/^[a-z]+[A-Za-z]*$/) });
      expect({ key, security: operation.security }).toEqual({ key, security: [{ bearerAuth: expect.arrayContaining([]) }] });
      const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
      expect({ key, successes: success.length > 0 }).toEqual({ key, successes: true });
      for (const [status, response] of success) {
        const media = response.content?.['application/json'];
        if (media) expect({ key, status, example: media.example !== undefined }).toEqual({ key, status, example: true });
      }
      const body = operation.requestBody?.content['application/json'];
      if (body) expect({ key, bodyExample: body.example !== undefined }).toEqual({ key, bodyExample: true });
    }
  });

  it('gives every operation its own operationId', () => {
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((operation) => operation.operationId));
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names every request body and JSON answer as a component, so clients get a type of that name', () => {
    for (const [key, operation] of apiOperations()) {
      const bodies = Object.entries(operation.requestBody?.content ?? {}).map(([type, media]) => [`body ${type}`, media] as const);
      const answers = Object.entries(operation.responses).flatMap(([status, answer]) =>
        Object.entries(answer.content ?? {})
          .filter(([type]) => type === 'application/json')
          .map(([type, media]) => [`${status} ${type}`, media] as const),
      );
      for (const [what, media] of [...bodies, ...answers]) {
        expect({ key, what, ref: media.schema.$ref }).toEqual({ key, what, ref: expect.stringMatching(/^#\/components\/schemas\/[A-Z][A-Za-z]+$/) });
        expect(doc.components.schemas[media.schema.$ref!.split('/').pop()!]).toBeDefined();
      }
    }
    expect(doc.paths['/api/v1/inventory/reservations/{id}']!.get!.responses['200']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/Reservation',
    });
  });

  it('says which operations are admin only, in their security and their description', () => {
    const admin = t.app.routeList.filter((route) => route.access === 'admin' && route.url.startsWith('/api/v1/'));
    expect(admin.length).toBeGreaterThan(0);
    for (const route of admin) {
      const operation = doc.paths[route.url.replace(/:([A-Za-z]+)/g, '{$1}')]![route.method.toLowerCase()]!;
      expect({ route: route.url, security: operation.security }).toEqual({ route: route.url, security: [{ bearerAuth: ['admin'] }] });
      expect(operation.description).toMatch(/^Admin only/);
    }
    expect(doc.paths['/api/v1/products/{id}']!.get!.security).toEqual([{ bearerAuth: [] }]);
  });

  it('documents the request id on every answer, the replay mark on idempotent successes and Retry-After on 429', () => {
    for (const [key, operation] of apiOperations()) {
      for (const [status, answer] of Object.entries(operation.responses))
        expect({ key, status, id: answer.headers?.['x-request-id'] }).toEqual({ key, status, id: expect.anything() });
      expect({ key, retryAfter: operation.responses['429']?.headers?.['retry-after'] }).toEqual({ key, retryAfter: expect.anything() });
    }
    expect(doc.paths['/api/v1/inventory/reserve']!.post!.responses['201']!.headers!['idempotent-replayed']).toEqual({
      $ref: '#/components/headers/IdempotentReplayed',
    });
    expect(doc.servers.length).toBeGreaterThan(0);
  });

  it('documents 401 on every API operation and 403 on admin ones, with the shared error body and an example', () => {
    for (const [key, operation] of apiOperations()) {
      const unauthorized = operation.responses['401']?.content?.['application/json'];
      expect({ key, code: (unauthorized?.example as { error: { code: string } } | undefined)?.error.code }).toEqual({ key, code: 'UNAUTHORIZED' });
      expect(unauthorized?.schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
    const createWarehouse = doc.paths['/api/v1/warehouses']!.post!;
    expect(Object.keys(createWarehouse.responses).sort()).toEqual(['201', '400', '401', '403', '409', '413', '415', '429', '503']);
    expect(createWarehouse.responses['409']!.content!['application/json']!.example).toMatchObject({ error: { code: expect.any(String) } });
    const getProduct = doc.paths['/api/v1/products/{id}']!.get!;
    expect(Object.keys(getProduct.responses).sort()).toEqual(['200', '400', '401', '404', '414', '429', '503']);
    expect(getProduct.responses['404']!.content!['application/json']!.example).toMatchObject({
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/^Product /) },
    });
    const getJob = doc.paths['/api/v1/allocations/{id}']!.get!;
    expect(getJob.responses['404']!.content!['application/json']!.example).toMatchObject({ error: { message: expect.stringMatching(/^Allocation /) } });
  });

  it('documents 422 where an Idempotency-Key is honoured, and a 204 without a body', () => {
    const enqueue = doc.paths['/api/v1/allocations']!.post!;
    expect(Object.keys(enqueue.responses).sort()).toEqual(['202', '400', '401', '413', '415', '422', '429', '503']);
    expect(enqueue.responses['422']!.content!['application/json']!.example).toMatchObject({ error: { code: 'IDEMPOTENCY_MISMATCH' } });
    const purge = doc.paths['/api/v1/admin/dead-letters/{id}']!.delete!;
    expect(purge.responses['204']!.content).toBeUndefined();
  });

  it('writes timestamps of answers as date-time strings', () => {
    expect(doc.components.schemas.Product!.properties!.createdAt).toEqual({ type: 'string', format: 'date-time' });
    expect(doc.paths['/api/v1/products/{id}']!.get!.responses['200']!.content!['application/json']!.example).toMatchObject({
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('documents /metrics as Prometheus text on the admin port', () => {
    const metrics = doc.paths['/metrics']!.get!;
    expect(Object.keys(metrics.responses['200']!.content!)).toEqual([expect.stringMatching(/^text\/plain; version=0\.0\.4/)]);
  });

  it('documents health and metrics as open', () => {
    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      expect({ path, security: doc.paths[path]?.get?.security }).toEqual({ path, security: [] });
    }
  });

  it('serves the Swagger UI at /docs on the admin port without a token', async () => {
    const ui = await t.admin('/docs/static/index.html');
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    // its own content policy, under which the UI's scripts run
    expect(ui.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
  });
});
