import { readFileSync } from 'node:fs';
import path from 'node:path';
import { signToken } from '../../src/auth/tokens';
import { createStockroomClient, type StockroomClient } from '../../clients/typescript';
import { startTestApp, type TestApp } from '../helpers/app';
import { documentValidator } from '../helpers/openapi-validator';
import { testJwtSecret } from '../helpers/tokens';

const document = JSON.parse(readFileSync(path.resolve(__dirname, '../../clients/typescript/openapi.json'), 'utf8')) as object;
const validate = documentValidator(document);
const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

let t: TestApp;
let admin: StockroomClient;
let service: StockroomClient;
/** Every answer the client received, to hold against the schema the document gives its operation and status. */
const answers: { call: string; pointer: string; body: unknown }[] = [];

beforeAll(async () => {
  t = await startTestApp('typed_client', { broker: true });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address() as { port: number };
  const record = {
    async onResponse({ request, response, schemaPath }: { request: Request; response: Response; schemaPath: string }) {
      const type = response.headers.get('content-type') ?? '';
      if (!type.includes('application/json')) return undefined;
      const pointer = `/paths/${escape(schemaPath)}/${request.method.toLowerCase()}/responses/${response.status}/content/application~1json/schema`;
      answers.push({ call: `${request.method} ${schemaPath} ${response.status}`, pointer, body: await response.clone().json() });
      return undefined;
    },
  };
  const clientFor = (role: 'admin' | 'service') => {
    const client = createStockroomClient({
      baseUrl: `http://127.0.0.1:${address.port}`,
      token: () => signToken(testJwtSecret, { sub: `client-${role}`, role }),
    });
    client.use(record);
    return client;
  };
  admin = clientFor('admin');
  service = clientFor('service');
});
afterAll(async () => t.close());

describe('the generated TypeScript client', () => {
  it('creates a warehouse and a product, receives stock, reserves and allocates it, with typed answers', async () => {
    const warehouse = await admin.POST('/api/v1/warehouses', { body: { id: 'wh-client', code: 'CL-1', name: 'Client test' } });
    expect(warehouse.response.status).toBe(201);
    expect(warehouse.data?.id).toBe('wh-client');
    const product = await admin.POST('/api/v1/products', { body: { id: 'sku-client', sku: 'SKU-CLIENT', name: 'Client widget' } });
    expect(product.data?.sku).toBe('SKU-CLIENT');

    const received = await admin.PUT('/api/v1/inventory/adjust', {
      body: {
        adjustments: [{ type: 'RECEIPT', productId: 'sku-client', warehouseId: 'wh-client', quantity: 10, reason: 'first delivery', lotNumber: 'LOT-1' }],
      },
    });
    expect(received.data?.adjustments[0]?.newQuantity).toBe(10);

    const reserved = await service.POST('/api/v1/inventory/reserve', {
      params: { header: { 'idempotency-key': 'client-order-1' } },
      body: { orderId: 'client-order-1', items: [{ productId: 'sku-client', quantity: 4 }] },
    });
    expect(reserved.response.status).toBe(201);
    const reservationId = reserved.data && 'items' in reserved.data && reserved.data.reservationId;
    expect(typeof reservationId).toBe('string');

    const allocated = await service.POST('/api/v1/inventory/allocate', { body: { reservationId: reservationId as string } });
    expect(allocated.response.status).toBe(200);
    const reservation = await service.GET('/api/v1/inventory/reservations/{id}', { params: { path: { id: reservationId as string } } });
    expect(reservation.data?.status).toBe('ALLOCATED');

    const stock = await service.GET('/api/v1/inventory/{productId}', { params: { path: { productId: 'sku-client' } } });
    expect(stock.response.status).toBe(200);
    const job = await service.POST('/api/v1/allocations', {
      body: { items: [{ productId: 'sku-client', quantity: 1 }], referenceId: 'client-job-1', referenceType: 'order', priority: 'high' },
    });
    expect(job.response.status).toBe(202);
    expect(job.data?.priority).toBe('high');
    const view = await service.GET('/api/v1/allocations/{id}', { params: { path: { id: job.data!.allocationId } } });
    expect(view.data?.priority).toBe('high');
  });

  it('gets the documented error body, typed, for a refused call', async () => {
    const missing = await service.GET('/api/v1/products/{id}', { params: { path: { id: 'no-such-product' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('NOT_FOUND');
    const forbidden = await service.POST('/api/v1/products', { body: { id: 'sku-x', sku: 'SKU-X', name: 'X' } });
    expect(forbidden.error?.error.code).toBe('FORBIDDEN');
  });

  it('received only answers that match the schema the document gives their operation and status', () => {
    expect(answers.length).toBeGreaterThanOrEqual(10);
    expect(answers.flatMap((answer) => validate(answer.pointer, answer.body).map((error) => `${answer.call}: ${error}`))).toEqual([]);
  });
});
