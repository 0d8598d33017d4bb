import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { errorStatus, type ErrorCode } from '../errors';
import { errorBodySchema } from '../schemas/common';
import '../schemas/components';
import type { Access } from './app-deps';

type JsonSchema = Record<string, unknown>;
type RouteSchema = Record<string, unknown> & { response?: Record<string, JsonSchema> };
type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/** The error statuses a route may document; each is rendered with the one error body shape. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 414 | 415 | 422 | 429 | 503;

/** Response schemas for a route's own error statuses (those auth, validation and outages do not already imply). */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Record<S, typeof errorBodySchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorBodySchema])) as Record<S, typeof errorBodySchema>;
}

const errorDescriptions: Record<ErrorStatus, string> = {
  400: 'Invalid input; `details.issues` lists what is wrong. Nothing was changed.',
  401: 'No bearer token, or one that is malformed, wrongly signed or expired',
  403: 'The token is valid but its role may not make this call',
  404: 'Not found',
  409: 'Conflict: not enough stock, a stale version, an invalid transition or a duplicate',
  413: 'The request body is too large',
  414: 'A path parameter is longer than 100 characters',
  415: 'The body is not application/json',
  422: 'The Idempotency-Key was already used with a different body',
  429: 'Too many calls from this caller in the window; `Retry-After` says when to try again',
  503: 'A dependency (Postgres or RabbitMQ) is down (`DEPENDENCY_UNAVAILABLE`), or, for new allocation jobs, the backlog is at its bound (`OVERLOADED`, with `Retry-After`); retry later',
};

const errorExamples: Record<ErrorStatus, { code: ErrorCode; message: string; details?: unknown }> = {
  400: {
    code: 'VALIDATION_FAILED',
    message: 'Invalid request body',
    details: { issues: [{ path: 'items.0.quantity', message: 'Too small: expected number to be >0', code: 'too_small' }] },
  },
  401: { code: 'UNAUTHORIZED', message: 'Send `Authorization: Bearer <token>`' },
  403: { code: 'FORBIDDEN', message: 'This call needs the admin role' },
  404: { code: 'NOT_FOUND', message: 'not found', details: { id: '0190f5e2-7c1a-7b3e-9d4f-2a6c8e1b3d5f' } },
  409: { code: 'INSUFFICIENT_STOCK', message: 'Not enough stock of sku-123: 15 requested, 10 available' },
  413: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large' },
  414: { code: 'URI_TOO_LONG', message: 'A path parameter is longer than 100 characters' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json' },
  422: { code: 'IDEMPOTENCY_MISMATCH', message: 'Idempotency-Key order-1001 was already used with a different request body' },
  429: {
    code: 'RATE_LIMITED',
    message: 'Too many requests; try again in 7 s',
    details: { retryAfterSeconds: 7, limit: 100000, windowSeconds: 10 },
  },
  503: { code: 'DEPENDENCY_UNAVAILABLE', message: 'The database is not answering' },
};

const errorComponent: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(errorStatus) },
        message: { type: 'string' },
        details: { description: 'What the failure concerns, e.g. the zod issues of a 400' },
      },
    },
  },
};

const successDescriptions: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' };

// Sample values for well-known property names, so generated examples read like real calls.
const sampleByName: Record<string, unknown> = {
  productId: 'sku-123',
  warehouseId: 'wh-001',
  fromWarehouseId: 'wh-001',
  toWarehouseId: 'wh-002',
  orderId: 'order-1001',
  referenceId: 'order-1001',
  referenceType: 'order',
  customerId: 'customer-42',
  sku: 'SKU-123',
  code: 'NYC-1',
  name: 'Example',
  lotNumber: 'LOT-2025-001',
  latitude: 40.7128,
  longitude: -74.006,
  reason: 'cycle count',
  reference: 'PO-4711',
  actor: 'ops-1',
  idempotencyKey: 'order-1001-reserve',
  message: 'Accepted; follow it at /api/v1/allocations/0190f5e2-7c1a-7b3e-9d4f-2a6c8e1b3d5f',
  errorMessage: 'Only 10 available, 15 requested',
  payload: { allocationId: '0190f5e2-7c1a-7b3e-9d4f-2a6c8e1b3d5f' },
  line1: '350 Fifth Avenue',
  line2: 'Dock 4',
  city: 'New York',
  region: 'NY',
  postalCode: '10118',
  country: 'US',
};
const sampleByFormat: Record<string, string> = {
  'date-time': '2025-01-15T09:30:00.000Z',
  uuid: '0190f5e2-7c1a-7b3e-9d4f-2a6c8e1b3d5f',
  uri: 'https://example.com',
  email: 'ops@example.com',
};

/** Finds the schema a `$ref` names, in the document's components. */
export type SchemaResolver = (ref: string) => JsonSchema | undefined;

/** A plausible value for a JSON schema: its own example or default, else one built from its type; `$ref`s are followed with `resolve`. */
export function sampleOf(schema: JsonSchema | undefined, name?: string, depth = 0, resolve?: SchemaResolver): unknown {
  if (!schema || depth > 20) return undefined;
  if (typeof schema.$ref === 'string') return sampleOf(resolve?.(schema.$ref), name, depth + 1, resolve);
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum.find((value) => value !== null);
  if (schema.const !== undefined) return schema.const;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[key] as JsonSchema[] | undefined;
    const branch = branches?.find((candidate) => candidate.type !== 'null' && !(candidate.nullable === true && Array.isArray(candidate.enum)));
    if (branch) return sampleOf(branch, name, depth + 1, resolve);
  }
  const type: unknown = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      return Object.fromEntries(
        Object.entries(properties)
          .map(([key, property]) => [key, sampleOf(property, key, depth + 1, resolve)] as const)
          .filter(([, value]) => value !== undefined),
      );
    }
    case 'array':
      return [sampleOf(schema.items as JsonSchema | undefined, name, depth + 1, resolve)].filter((value) => value !== undefined);
    case 'string':
      if (typeof schema.format === 'string' && sampleByFormat[schema.format]) return sampleByFormat[schema.format];
      if (name && typeof sampleByName[name] === 'string') return sampleByName[name];
      // Generated ids (lots, reservations, jobs, …) are UUIDs; names of things are plain text.
      return name && /(^id|Id)$/.test(name) ? sampleByFormat.uuid : 'text';
    case 'integer':
    case 'number': {
      if (name && typeof sampleByName[name] === 'number') return sampleByName[name];
      const minimum = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 1;
      return Math.max(minimum, Math.min(10, typeof schema.maximum === 'number' ? schema.maximum : 10));
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      // a schema that allows anything
      return name !== undefined && sampleByName[name] !== undefined ? sampleByName[name] : null;
  }
}

/** What a route's path id names, for its 404 example: `/allocations/:id` → Allocation, `/inventory/:productId` → Product. */
function thingOf(url: string): string {
  const match = /\/([a-z-]+)\/:([A-Za-z]+)(?:\/|$)/.exec(url);
  if (!match) return 'Record';
  const [segment, param] = [match[1]!, match[2]!];
  const word = param !== 'id' ? param.replace(/Id$/, '') : segment.replace(/s$/, '').replace(/-/g, ' ');
  return word.charAt(0).toUpperCase() + word.slice(1);
}

const errorRef = { $ref: '#/components/schemas/Error' };

function errorResponse(status: ErrorStatus, url: string, own?: unknown): JsonSchema {
  const example = status === 404 ? { ...errorExamples[404], message: `${thingOf(url)} ${sampleByFormat.uuid} not found` } : errorExamples[status];
  return { description: errorDescriptions[status], content: { 'application/json': { schema: errorRef, example: own ?? { error: example } } } };
}

/** Whether a converted response schema is the `{ error: { code, message } }` body. */
function isErrorBody(schema: JsonSchema): boolean {
  const error = (schema.properties as Record<string, JsonSchema> | undefined)?.error;
  return error !== undefined && (error.properties as Record<string, unknown> | undefined)?.code !== undefined;
}

/** A schema's own example, if it has one. */
function exampleOf(schema: JsonSchema): unknown {
  return schema.example ?? (Array.isArray(schema.examples) ? schema.examples[0] : undefined);
}

/**
 * Error statuses every route implies: 400 when it takes input, auth by its access, 404 and 414 for
 * a path id, 413 and 415 for a body, 422 when it honours Idempotency-Key, 429 and 503 for the API.
 */
function impliedErrors(url: string, access: Access, schema: RouteSchema): ErrorStatus[] {
  const statuses: ErrorStatus[] = [];
  const headers = (schema.headers as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  if (schema.body || schema.querystring || schema.params) statuses.push(400);
  if (access !== 'public') statuses.push(401);
  if (access === 'admin') statuses.push(403);
  if (url.includes('/:')) statuses.push(404, 414);
  if (schema.body) statuses.push(413, 415);
  if ('idempotency-key' in headers) statuses.push(422);
  if (url.startsWith('/api/')) statuses.push(429, 503);
  return statuses;
}

function isErrorStatus(status: number): status is ErrorStatus {
  return status in errorDescriptions;
}

/** What the description of an admin-only operation starts with; its security names the `admin` role too. */
export const adminOnly = "Admin only: the bearer token's `role` must be `admin`.";

/**
 * Turns a route's zod schemas into OpenAPI (fastify-type-provider-zod; registered schemas become
 * `$ref`s to their components) and completes the result: security and role by access, and every
 * error status with the shared error body and its example.
 */
export function documentRoute(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const converted = jsonSchemaTransform(input);
  // a route without a schema has none here, whatever the transform's type says
  const original: RouteSchema = (converted.schema as RouteSchema | undefined) ?? {};
  if (original.hide) return converted;
  const access: Access = input.route.config?.access ?? 'service';
  const schema: RouteSchema = { ...original, security: access === 'public' ? [] : [{ bearerAuth: access === 'admin' ? ['admin'] : [] }] };
  if (access === 'admin') {
    schema.description = typeof original.description === 'string' ? `${adminOnly} ${original.description}` : adminOnly;
    schema['x-required-role'] = 'admin';
  }

  // A declared status keeps its own schema unless it is the shared error body.
  const declared = (input.schema as { response?: Record<string, unknown> } | undefined)?.response ?? {};
  const response: Record<string, JsonSchema> = {};
  const errors = new Set<ErrorStatus>();
  for (const [status, definition] of Object.entries(original.response ?? {})) {
    const code = Number(status);
    const description = (definition.description as string | undefined) ?? successDescriptions[status] ?? (isErrorStatus(code) ? errorDescriptions[code] : 'OK');
    if (isErrorStatus(code) && declared[status] === errorBodySchema) errors.add(code);
    // An error body of the route's own (with its own example, e.g. 503 OVERLOADED) is the shared Error schema too.
    else if (isErrorStatus(code) && isErrorBody(definition)) response[status] = errorResponse(code, converted.url, exampleOf(definition));
    // A 204 has no body: `type: 'null'` makes @fastify/swagger leave out its content.
    else if (code === 204) response[status] = { description, type: 'null' };
    else response[status] = { ...definition, description };
  }
  if (!Object.keys(response).some((status) => status.startsWith('2'))) response[200] = { description: 'OK' };
  for (const status of impliedErrors(converted.url, access, original)) if (response[status] === undefined) errors.add(status);
  for (const status of [...errors].sort((a, b) => a - b)) response[status] = errorResponse(status, converted.url);
  schema.response = response;
  return { schema, url: converted.url };
}

/** Response headers, described once and referenced from every answer that carries them. */
const responseHeaders: Record<string, JsonSchema> = {
  RequestId: {
    description: "The id of this request, in every log line about it: the caller's own `x-request-id` when it is a short token, else one generated",
    schema: { type: 'string' },
  },
  IdempotentReplayed: {
    description: '`true` when this is the stored answer of an earlier call with the same Idempotency-Key and body; nothing was done again',
    schema: { type: 'string', enum: ['true'] },
  },
  RetryAfter: { description: 'Seconds until the caller may call again', schema: { type: 'integer', minimum: 0 } },
  RateLimitLimit: { description: 'Calls allowed to this caller in the window', schema: { type: 'integer', minimum: 0 } },
  RateLimitRemaining: { description: 'Calls left to this caller in the window', schema: { type: 'integer', minimum: 0 } },
  RateLimitReset: { description: 'Seconds until the window starts anew', schema: { type: 'integer', minimum: 0 } },
};
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** The headers an answer carries: its request id always, the replay mark on a success of an idempotent call, the limits on a 429. */
function headersOf(status: string, idempotent: boolean): Record<string, { $ref: string }> {
  return {
    'x-request-id': headerRef('RequestId'),
    ...(idempotent && status.startsWith('2') ? { 'idempotent-replayed': headerRef('IdempotentReplayed') } : {}),
    ...(status === '429'
      ? {
          'retry-after': headerRef('RetryAfter'),
          'x-ratelimit-limit': headerRef('RateLimitLimit'),
          'x-ratelimit-remaining': headerRef('RateLimitRemaining'),
          'x-ratelimit-reset': headerRef('RateLimitReset'),
        }
      : {}),
  };
}

const schemaRefPrefix = '#/components/schemas/';

/** Every schema component a value refers to by `$ref`. */
function schemaRefs(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) schemaRefs(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(schemaRefPrefix)) found.add(child.slice(schemaRefPrefix.length));
      else schemaRefs(child, found);
    }
  }
  return found;
}

/**
 * The components the paths reach, and the new names of input forms whose output form is not used:
 * a request body is `NewWarehouse`, not `NewWarehouseInput`.
 */
function reachableComponents(paths: unknown, schemas: Record<string, JsonSchema>): { kept: string[]; renames: Map<string, string> } {
  const reached = new Set<string>();
  const pending = [...schemaRefs(paths)];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (reached.has(name) || !schemas[name]) continue;
    reached.add(name);
    pending.push(...schemaRefs(schemas[name]));
  }
  const renames = new Map<string, string>();
  for (const name of reached) {
    const plain = name.replace(/Input$/, '');
    if (plain !== name && !reached.has(plain)) renames.set(name, plain);
  }
  return { kept: [...reached], renames };
}

type Media = { schema?: JsonSchema; example?: unknown };
type Operation = {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, Media> }>;
};
type DocumentShape = { paths: Record<string, Record<string, Operation>>; components: Record<string, unknown> };

/**
 * Completes the document once every route is in: the named components the paths use (and the
 * shared error body), the headers each answer carries, and an example beside every JSON request
 * or answer that has none.
 */
export const completeDocument: typeof jsonSchemaTransformObject = (input) => {
  const converted = jsonSchemaTransformObject(input) as unknown as DocumentShape;
  const allSchemas: Record<string, JsonSchema> = { ...(converted.components.schemas as Record<string, JsonSchema>), Error: errorComponent };
  const { kept, renames } = reachableComponents(converted.paths, allSchemas);
  let text = JSON.stringify({ paths: converted.paths, schemas: Object.fromEntries(kept.sort().map((name) => [name, allSchemas[name]])) });
  for (const [from, to] of renames) text = text.replaceAll(`"${schemaRefPrefix}${from}"`, `"${schemaRefPrefix}${to}"`);
  const { paths, schemas: byOldName } = JSON.parse(text) as { paths: DocumentShape['paths']; schemas: Record<string, JsonSchema> };
  const schemas = Object.fromEntries(Object.entries(byOldName).map(([name, schema]) => [renames.get(name) ?? name, schema]));
  const resolve: SchemaResolver = (ref) => schemas[ref.slice(schemaRefPrefix.length)];
  const withExample = (media: Media) => {
    if (media.example === undefined && media.schema && media.schema.type !== 'string') media.example = sampleOf(media.schema, undefined, 0, resolve);
  };
  for (const methods of Object.values(paths)) {
    for (const operation of Object.values(methods)) {
      const idempotent = (operation.parameters ?? []).some((parameter) => parameter.in === 'header' && parameter.name === 'idempotency-key');
      for (const media of Object.values(operation.requestBody?.content ?? {})) withExample(media);
      for (const [status, answer] of Object.entries(operation.responses)) {
        for (const media of Object.values(answer.content ?? {})) withExample(media);
        answer.headers = headersOf(status, idempotent);
      }
    }
  }
  return { ...converted, paths, components: { ...converted.components, schemas, headers: responseHeaders } };
};

/** Where the document says the api and the admin port answer by default (HOST/PORT and ADMIN_HOST/ADMIN_PORT). */
export const apiServer = { url: 'http://127.0.0.1:3000', description: 'The api on its default port (PORT)' };
export const adminServer = { url: 'http://127.0.0.1:9464', description: 'The admin port (ADMIN_HOST:ADMIN_PORT): /metrics and /docs' };

/** OpenAPI for every route at /docs/json, and the Swagger UI at /docs; both on the admin port only, without a token. */
export async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Stockroom',
        version,
        license: { name: 'UNLICENSED', identifier: 'LicenseRef-Proprietary' },
        description:
          'Inventory allocation and reservation: check, reserve, allocate, ship and release stock, enqueue allocation jobs, and operate the queue. ' +
          'Every call under /api/v1 needs `Authorization: Bearer <JWT>` (HS256, or RS256/EdDSA where a public key is configured; claims `sub`, `role`: service or admin, and `exp`); ' +
          'operations whose security names the `admin` role (and whose description starts "Admin only") refuse a service token with 403. ' +
          'Every failure is `{ "error": { "code", "message", "details"? } }`; every answer carries `x-request-id`.',
      },
      servers: [apiServer],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'A JWT whose `role` claim is `service` or `admin`; operations listing the `admin` role need an admin token.',
          },
        },
      },
      tags: [
        { name: 'catalogue', description: 'Warehouses and products' },
        { name: 'inventory', description: 'Stock levels, movements, adjustments, settings and low stock' },
        { name: 'transfers', description: 'Stock sent between warehouses: received whole or in part, cancelled, found' },
        { name: 'reservations', description: 'Reserve, allocate, ship, release and extend' },
        { name: 'allocations', description: 'Asynchronous allocation jobs' },
        { name: 'units', description: "Units of serial-tracked products: find them, their history, mark them sold or delivered, an order's inventory" },
        { name: 'backorders', description: 'What could not be served yet' },
        { name: 'dead letters', description: 'Jobs that failed every try: inspect, replay, purge (admin)' },
        { name: 'operations', description: 'Health and metrics' },
      ],
    },
    transform: documentRoute,
    transformObject: completeDocument,
  });
  await app.register(async (docs) => {
    // The UI and its assets are registered in this scope; they need no token, and only the admin port serves them.
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public', adminPort: true };
      route.logLevel ??= 'warn';
    });
    // staticCSP replaces the API's deny-all content policy with one the UI's scripts and styles work under.
    await docs.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  });
}
