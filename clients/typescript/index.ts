import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema';

export type * from './schema';

/** A Stockroom client: `client.POST('/api/v1/inventory/reserve', { body })`, every path, body and answer typed. */
export type StockroomClient = Client<paths>;

/** Where the api is and who calls it; any other option goes to openapi-fetch's createClient. */
export type StockroomClientOptions = ClientOptions & {
  /** The api's base URL, e.g. http://127.0.0.1:3000 (the document's `servers`). */
  baseUrl: string;
  /** A bearer token (JWT with role service or admin), or a function that returns the current one. */
  token: string | (() => string | Promise<string>);
};

/** Creates a typed client of the Stockroom API that sends the bearer token with every call. */
export function createStockroomClient({ token, ...options }: StockroomClientOptions): StockroomClient {
  const client = createClient<paths>(options);
  client.use({
    async onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${typeof token === 'string' ? token : await token()}`);
      return request;
    },
  });
  return client;
}
