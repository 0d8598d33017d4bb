import type { FastifyInstance } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { bearer } from './tokens';

/** Calls of the inventory API as one service caller, through app.inject. */
export function inventoryApi(app: FastifyInstance, sub = 'checkout') {
  const auth = bearer('service', sub);
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    app.inject({ method, url: `/api/v1${url}`, headers: { ...auth, ...headers }, ...(payload === undefined ? {} : { payload }) });
  return {
    call,
    reserve: (payload: object, headers?: Record<string, string>) => call('POST', '/inventory/reserve', payload, headers),
    release: (payload: object, headers?: Record<string, string>) => call('POST', '/inventory/release', payload, headers),
    allocate: (payload: object, headers?: Record<string, string>) => call('POST', '/inventory/allocate', payload, headers),
    ship: (payload: object, headers?: Record<string, string>) => call('POST', '/inventory/ship', payload, headers),
    extend: (id: string, payload: object) => call('POST', `/inventory/reservations/${id}/extend`, payload),
    get: (id: string) => call('GET', `/inventory/reservations/${id}`),
  };
}
