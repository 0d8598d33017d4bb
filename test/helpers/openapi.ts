import type { InjectOptions } from 'fastify';
import { sampleOf } from '../../src/http/openapi';
import type { TestApp } from './app';

type JsonSchema = Record<string, unknown>;
type Parameter = { in: 'path' | 'query' | 'header'; name: string; required?: boolean; schema?: JsonSchema };
type OperationObject = { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema; example?: unknown }> } };
/** The OpenAPI document the app serves at /docs/json. */
export type ApiDocument = { paths: Record<string, Record<string, OperationObject>> };

/** One documented operation, with what a well-formed call of it sends. */
export type ApiOperation = {
  /** "POST /api/v1/inventory/reserve", path parameters as `{name}`. */
  name: string;
  method: string;
  path: string;
  pathParams: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Names of every query and header parameter documented, required or not. */
  queryNames: string[];
  headerNames: string[];
  body: unknown;
};

/** Reads the OpenAPI document the test app serves on its admin port. */
export async function apiDocument(t: TestApp): Promise<ApiDocument> {
  const response = await t.admin('/docs/json');
  if (response.status !== 200) throw new Error(`GET /docs/json answered ${response.status}`);
  return (await response.json()) as ApiDocument;
}

/** Every /api/v1 operation of the document, each with a plausible call built from its examples. */
export function apiOperations(doc: ApiDocument): ApiOperation[] {
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/api/v1/'))
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => {
        const parameters = operation.parameters ?? [];
        const sampled = (location: Parameter['in'], requiredOnly: boolean) =>
          Object.fromEntries(
            parameters
              .filter((parameter) => parameter.in === location && (!requiredOnly || parameter.required))
              .map((parameter) => [parameter.name, String(sampleOf(parameter.schema, parameter.name))]),
          );
        const body = operation.requestBody?.content['application/json'];
        return {
          name: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          pathParams: sampled('path', false),
          query: sampled('query', true),
          headers: sampled('header', false),
          queryNames: parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
          headerNames: parameters.filter((parameter) => parameter.in === 'header').map((parameter) => parameter.name),
          // every documented body has its example (the schema is a $ref to a component)
          body: body?.example,
        };
      }),
    );
}

/** A call's parts as sent: path parameters and the query already URL-encoded, the body as JSON or raw text. */
export type RawCall = {
  pathParams: Record<string, string>;
  query: string;
  headers: Record<string, string>;
  body?: { json: unknown } | { raw: string; contentType?: string };
};

/** The well-formed call of an operation, encoded. */
export function wellFormedCall(operation: ApiOperation): RawCall {
  return {
    pathParams: Object.fromEntries(Object.entries(operation.pathParams).map(([name, value]) => [name, encodeURIComponent(value)])),
    query: new URLSearchParams(operation.query).toString(),
    headers: operation.headers,
    ...(operation.body === undefined ? {} : { body: { json: operation.body } }),
  };
}

/** What app.inject needs to send a call of the operation. */
export function injectOptions(operation: ApiOperation, call: RawCall, headers: Record<string, string> = {}): InjectOptions {
  const path = operation.path.replace(/\{([A-Za-z]+)\}/g, (_match, name: string) => call.pathParams[name] ?? '');
  const options: InjectOptions = {
    method: operation.method,
    url: call.query ? `${path}?${call.query}` : path,
    headers: { ...call.headers, ...headers },
  };
  if (call.body && 'json' in call.body) {
    options.payload = JSON.stringify(call.body.json);
    options.headers = { 'content-type': 'application/json', ...options.headers };
  } else if (call.body) {
    options.payload = call.body.raw;
    if (call.body.contentType) options.headers = { 'content-type': call.body.contentType, ...options.headers };
  }
  return options;
}
