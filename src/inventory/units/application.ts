/**
 * The units application: what the unit routes call. Reads run on the pool; marking units runs one
 * transaction per call under its Idempotency-Key. Every call acts in the caller's owner scope
 * (src/domain/ownership.ts).
 */
import type { Pool } from 'pg';
import type { Caller } from '../../auth/tokens';
import { scopeOf } from '../../domain/ownership';
import type { MarkTarget } from '../../domain/units';
import {
  markUnitsAnswerSchema,
  type ListUnitsQuery,
  type MarkUnitsAnswer,
  type MarkUnitsInput,
  type OrderInventory,
  type UnitDetail,
  type UnitPage,
} from '../../schemas/units';
import { keptOperation, type IdempotentAnswer } from '../idempotency';
import { findOrderInventory, findUnit, findUnits } from './lookup';
import { markUnits } from './mark';

export type UnitsApp = {
  find(caller: Caller, query: ListUnitsQuery): Promise<UnitPage>;
  /** A unit with its history; 404 when no product has the serial number, 409 when several do and `productId` is not given. */
  get(caller: Caller, serialNumber: string, productId: string | undefined): Promise<UnitDetail>;
  /** 200 with the units moved and their reservations; refusals throw. */
  mark(caller: Caller, target: MarkTarget, key: string | undefined, input: MarkUnitsInput): Promise<IdempotentAnswer<MarkUnitsAnswer>>;
  orderInventory(caller: Caller, orderId: string, owner: string | undefined): Promise<OrderInventory>;
};

/** The units application of one process. */
export function createUnitsApp({ pool }: { pool: Pool }): UnitsApp {
  const operations = { SOLD: keptOperation(pool, 'mark-sold', markUnitsAnswerSchema), DELIVERED: keptOperation(pool, 'mark-delivered', markUnitsAnswerSchema) };
  return {
    find: (caller, query) => findUnits(pool, query, scopeOf(caller)),
    get: (caller, serialNumber, productId) => findUnit(pool, serialNumber, productId, scopeOf(caller)),
    mark: (caller, target, key, input) =>
      operations[target](caller, key, input, async (tx) => ({
        status: 200,
        body: await markUnits(tx, target, input, { now: new Date(), actor: caller.sub, scope: scopeOf(caller) }),
      })),
    orderInventory: (caller, orderId, owner) => findOrderInventory(pool, orderId, owner, scopeOf(caller), new Date()),
  };
}
