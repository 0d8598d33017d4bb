/**
 * The reservations application: what the HTTP routes call. It owns the transaction of each call,
 * its Idempotency-Key and the status it is answered with; the use cases beside it return outcomes.
 * Reserves and direct allocations go through the process's serve batcher (one transaction for the
 * calls that arrive together); the other changes run one transaction each.
 */
import type { Pool } from 'pg';
import type { Caller } from '../../auth/tokens';
import type { Config } from '../../config';
import { withTransaction } from '../../db/client';
import {
  reservationDetailSchema,
  serveAnswerSchema,
  type AllocateReservationInput,
  type AllocateDirectInput,
  type ExtendInput,
  type ListReservationsQuery,
  type ReleaseInput,
  type ReservationDetail,
  type ReservationPage,
  type ReserveInput,
  type ServeAnswer,
  type ShipInput,
} from '../../schemas/reservations';
import { keptOperation, type IdempotentAnswer } from '../idempotency';
import { allocateReservation } from './allocate';
import { extendReservation } from './extend';
import { findReservations } from './lookup';
import { releaseReservation } from './release';
import { checkReserveInput, type UseCaseContext } from './reserve';
import { createServeBatcher } from './serve-batcher';
import { shipReservation } from './ship';
import { loadReservationDetail } from './transitions';

export type ReservationsApp = {
  /** 201 with the reservation (and any shortfall or backorders), 202 when everything was backordered; refusals throw. */
  reserve(caller: Caller, key: string | undefined, input: ReserveInput): Promise<IdempotentAnswer<ServeAnswer>>;
  /** A reservation allocated (200), or stock allocated directly, answered as reserve. */
  allocate(
    caller: Caller,
    key: string | undefined,
    input: AllocateReservationInput | AllocateDirectInput,
  ): Promise<IdempotentAnswer<ServeAnswer | ReservationDetail>>;
  release(caller: Caller, key: string | undefined, input: ReleaseInput): Promise<IdempotentAnswer<ReservationDetail>>;
  ship(caller: Caller, key: string | undefined, input: ShipInput): Promise<IdempotentAnswer<ReservationDetail>>;
  extend(caller: Caller, reservationId: string, input: ExtendInput): Promise<ReservationDetail>;
  find(query: ListReservationsQuery): Promise<ReservationPage>;
  get(reservationId: string): Promise<ReservationDetail>;
  /** Waits for the serve batches under way. */
  close(): Promise<void>;
};

/** The reservations application of one process. */
export function createReservationsApp({ pool, config }: { pool: Pool; config: Config }): ReservationsApp {
  const batcher = createServeBatcher(pool, config, { maxBatch: config.SYNC_BATCH_SIZE, maxInFlight: config.SYNC_BATCHES_IN_FLIGHT });
  const context = (caller: Caller): UseCaseContext => ({ now: new Date(), actor: caller.sub, config });
  const release = keptOperation(pool, 'release', reservationDetailSchema);
  const allocate = keptOperation(pool, 'allocate', reservationDetailSchema);
  const ship = keptOperation(pool, 'ship', reservationDetailSchema);
  const served = (operation: 'reserve' | 'allocate', caller: Caller, key: string | undefined, input: AllocateDirectInput) =>
    batcher.serve({ order: { mode: operation, input, actor: caller.sub }, call: { operation, caller, key, body: input, response: serveAnswerSchema } });

  return {
    reserve(caller, key, input) {
      checkReserveInput(input, config);
      return served('reserve', caller, key, input);
    },
    allocate(caller, key, input) {
      if (!('reservationId' in input)) return served('allocate', caller, key, input);
      return allocate(caller, key, input, async (tx) => ({ status: 200, body: await allocateReservation(tx, input, context(caller)) }));
    },
    release: (caller, key, input) => release(caller, key, input, async (tx) => ({ status: 200, body: await releaseReservation(tx, input, context(caller)) })),
    ship: (caller, key, input) => ship(caller, key, input, async (tx) => ({ status: 200, body: await shipReservation(tx, input, context(caller)) })),
    extend: (caller, reservationId, input) => withTransaction(pool, (tx) => extendReservation(tx, reservationId, input, context(caller))),
    find: (query) => findReservations(pool, query, new Date()),
    get: (reservationId) => loadReservationDetail(pool, reservationId, new Date()),
    close: () => batcher.close(),
  };
}
