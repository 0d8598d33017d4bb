/**
 * The reservations application: what the HTTP routes call. It owns the transaction of each call,
 * its Idempotency-Key and the status it is answered with; the use cases beside it return outcomes.
 * Reserves and direct allocations go through the process's serve batcher (one transaction for the
 * calls that arrive together); the other changes run one transaction each. Every call acts in the
 * caller's owner scope (src/domain/ownership.ts): another owner's reservation reads as not found.
 */
import type { Pool } from 'pg';
import type { Caller } from '../../auth/tokens';
import type { Config } from '../../config';
import { withTransaction } from '../../db/client';
import { scopeOf } from '../../domain/ownership';
import {
  reservationDetailSchema,
  reservationTransferAnswerSchema,
  serveAnswerSchema,
  type AllocateReservationInput,
  type AllocateDirectInput,
  type ExtendInput,
  type ListReservationsQuery,
  type ReleaseInput,
  type ReservationDetail,
  type ReservationPage,
  type ReservationTransferAnswer,
  type ReserveInput,
  type ServeAnswer,
  type ShipInput,
  type TransferReservationInput,
} from '../../schemas/reservations';
import { keptOperation, type IdempotentAnswer } from '../idempotency';
import { traceparentOf } from '../../tracing/trace-context';
import { allocateReservation } from './allocate';
import { extendReservation } from './extend';
import { findReservations } from './lookup';
import { moveReservation } from './move';
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
  /** 201 with both reservations: held units moved to a new reservation of another order. */
  transfer(
    caller: Caller,
    key: string | undefined,
    reservationId: string,
    input: TransferReservationInput,
  ): Promise<IdempotentAnswer<ReservationTransferAnswer>>;
  /** The caller's own reservations (an admin's: everyone's, or one owner's) matching the query. */
  find(caller: Caller, query: ListReservationsQuery): Promise<ReservationPage>;
  /** A reservation the caller may see; 404 for another owner's. */
  get(caller: Caller, reservationId: string): Promise<ReservationDetail>;
  /** Waits for the serve batches under way. */
  close(): Promise<void>;
};

/** The reservations application of one process. */
export function createReservationsApp({ pool, config }: { pool: Pool; config: Config }): ReservationsApp {
  const batcher = createServeBatcher(pool, config, { maxBatch: config.SYNC_BATCH_SIZE, maxInFlight: config.SYNC_BATCHES_IN_FLIGHT });
  const context = (caller: Caller): UseCaseContext => ({ now: new Date(), actor: caller.sub, scope: scopeOf(caller), config });
  const release = keptOperation(pool, 'release', reservationDetailSchema);
  const allocate = keptOperation(pool, 'allocate', reservationDetailSchema);
  const ship = keptOperation(pool, 'ship', reservationDetailSchema);
  const transfer = keptOperation(pool, 'transfer-reservation', reservationTransferAnswerSchema);
  const served = (operation: 'reserve' | 'allocate', caller: Caller, key: string | undefined, input: AllocateDirectInput) =>
    batcher.serve({
      order: { mode: operation, input, actor: caller.sub, owner: scopeOf(caller).owner, traceparent: traceparentOf() },
      call: { operation, caller, key, body: input, response: serveAnswerSchema },
    });

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
    transfer: (caller, key, reservationId, input) =>
      transfer(caller, key, { reservationId, ...input }, async (tx) => ({
        status: 201,
        body: await moveReservation(tx, reservationId, input, context(caller)),
      })),
    find: (caller, query) => findReservations(pool, query, new Date(), scopeOf(caller)),
    get: (caller, reservationId) => loadReservationDetail(pool, reservationId, new Date(), scopeOf(caller)),
    close: () => batcher.close(),
  };
}
