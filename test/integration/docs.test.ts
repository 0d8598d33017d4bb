import { startTestApp, type TestApp } from '../helpers/app';

let t: TestApp;
let doc: { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };
type Operation = {
  tags?: string[];
  summary?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
};
type Schema = { example?: unknown; properties?: Record<string, Schema>; type?: string; format?: string };

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

  it('gives every API operation tags, a summary, bearer security and an example for its success answer', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [key, operation] of apiOperations()) {
      expect({ key, tags: operation.tags?.length, summary: Boolean(operation.summary) }).toEqual({ key, tags: 1, summary: true });
      expect({ key, security: operation.security }).toEqual({ key, security: [{ bearerAuth: [] }] });
      const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
      expect({ key, successes: success.length > 0 }).toEqual({ key, successes: true });
      for (const [status, response] of success) {
        const schema = response.content?.['application/json']?.schema;
        if (schema) expect({ key, status, example: schema.example !== undefined }).toEqual({ key, status, example: true });
      }
      const body = operation.requestBody?.content['application/json']?.schema;
      if (body) expect({ key, bodyExample: body.example !== undefined }).toEqual({ key, bodyExample: true });
    }
  });

  it('documents 401 on every API operation and 403 on admin ones, with the shared error body and an example', () => {
    for (const [key, operation] of apiOperations()) {
      const unauthorized = operation.responses['401']?.content?.['application/json']?.schema;
      expect({ key, code: (unauthorized?.example as { error: { code: string } } | undefined)?.error.code }).toEqual({ key, code: 'UNAUTHORIZED' });
      expect(unauthorized?.properties?.error?.properties?.code).toBeDefined();
    }
    const createWarehouse = doc.paths['/api/v1/warehouses']!.post!;
    expect(Object.keys(createWarehouse.responses).sort()).toEqual(['201', '400', '401', '403', '409', '413', '415', '429', '503']);
    expect(createWarehouse.responses['409']!.content!['application/json']!.schema.example).toMatchObject({ error: { code: expect.any(String) } });
    const getProduct = doc.paths['/api/v1/products/{id}']!.get!;
    expect(Object.keys(getProduct.responses).sort()).toEqual(['200', '400', '401', '404', '414', '429', '503']);
    expect(getProduct.responses['404']!.content!['application/json']!.schema.example).toMatchObject({
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/^Product /) },
    });
    const getJob = doc.paths['/api/v1/allocations/{id}']!.get!;
    expect(getJob.responses['404']!.content!['application/json']!.schema.example).toMatchObject({ error: { message: expect.stringMatching(/^Allocation /) } });
  });

  it('documents 422 where an Idempotency-Key is honoured, and a 204 without a body', () => {
    const enqueue = doc.paths['/api/v1/allocations']!.post!;
    expect(Object.keys(enqueue.responses).sort()).toEqual(['202', '400', '401', '413', '415', '422', '429', '503']);
    expect(enqueue.responses['422']!.content!['application/json']!.schema.example).toMatchObject({ error: { code: 'IDEMPOTENCY_MISMATCH' } });
    const purge = doc.paths['/api/v1/admin/dead-letters/{id}']!.delete!;
    expect(purge.responses['204']).toEqual({ description: 'No content' });
  });

  it('writes timestamps of answers as date-time strings', () => {
    const product = doc.paths['/api/v1/products/{id}']!.get!.responses['200']!.content!['application/json']!.schema;
    expect(product.properties!.createdAt).toEqual({ type: 'string', format: 'date-time' });
    expect(product.example).toMatchObject({ createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
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
