/** Reserve stock for an order, or allocate it directly: requests through the engine. */
import type { Config } from '../../config';
import type { Transaction } from '../../db/client';
import { commitWrites, type Writes } from '../../db/writes';
import type { OwnerScope } from '../../domain/ownership';
import { AppError } from '../../errors';
import type { AllocateDirectInput, BackorderedAnswer, ReserveAnswer, ReserveInput } from '../../schemas/reservations';
import { serve, type EngineOutcome, type EngineRequest } from '../engine';

/**
 * What a synchronous inventory call needs besides its input: the clock, who acts (named in the
 * ledger and history), the owner it acts for and whose reservations it may see, and the hold limits.
 */
export type UseCaseContext = {
  now: Date;
  actor: string;
  scope: OwnerScope;
  config: Pick<Config, 'RESERVATION_TIMEOUT_MINUTES' | 'RESERVATION_MAX_MINUTES'>;
};

/** What serving one order came to: stock held (with any shortfall and backorders), or everything backordered. */
export type OrderOutcome = { kind: 'held'; answer: ReserveAnswer } | { kind: 'backordered'; answer: BackorderedAnswer };

/** One order to reserve or allocate directly, on behalf of `actor`, for `owner` (whose reservation and backorders it leaves). */
/** An order to serve; `traceparent`, the trace context of the call that asked (a batch serves many calls), which its events continue. */
export type OrderToServe = {
  mode: 'reserve' | 'allocate';
  input: AllocateDirectInput & { timeoutMinutes?: number | undefined };
  actor: string;
  owner: string;
  traceparent?: string | null;
};

/** Refuses a hold longer than the configured maximum (400), before anything is looked up. */
export function checkReserveInput(input: Pick<ReserveInput, 'timeoutMinutes'>, config: UseCaseContext['config']): void {
  if (input.timeoutMinutes !== undefined && input.timeoutMinutes > config.RESERVATION_MAX_MINUTES) {
    throw new AppError('VALIDATION_FAILED', `timeoutMinutes may be at most ${config.RESERVATION_MAX_MINUTES}`, {
      issues: [{ path: 'timeoutMinutes', message: `must be at most ${config.RESERVATION_MAX_MINUTES}`, code: 'too_big' }],
    });
  }
}

/**
 * The outcome of one order, or its refusal: 400 UNKNOWN_REFERENCE, 409 PRODUCT_DISCONTINUED, or 409
 * INSUFFICIENT_STOCK when it got nothing and backordered nothing.
 */
function outcomeOf(order: OrderToServe, served: EngineOutcome): OrderOutcome | AppError {
  if (served.outcome === 'discontinued') {
    const named = served.discontinuedProducts.join(', ');
    return new AppError('PRODUCT_DISCONTINUED', `Discontinued products take no new reservations: ${named}`, {
      discontinuedProducts: served.discontinuedProducts,
    });
  }
  if (served.outcome === 'unknown_reference') {
    return new AppError('UNKNOWN_REFERENCE', 'The request names products or warehouses that do not exist', {
      ...(served.unknownProducts.length ? { unknownProducts: served.unknownProducts } : {}),
      ...(served.unknownWarehouses.length ? { unknownWarehouses: served.unknownWarehouses } : {}),
    });
  }
  const { reservation, failedLines, backorders } = served;
  const { orderId } = order.input;
  if (reservation !== null) return { kind: 'held', answer: { ...reservation, shortfall: failedLines, backorders } };
  if (backorders.length > 0)
    return { kind: 'backordered', answer: { reservationId: null, orderId, status: 'BACKORDERED', shortfall: failedLines, backorders } };
  const unavailableSerials = failedLines.flatMap((line) => (line.unavailableSerials ?? []).map((unit) => ({ productId: line.productId, ...unit })));
  if (unavailableSerials.length > 0) {
    const named = unavailableSerials.map((unit) => `${unit.serialNumber} (${unit.status})`).join(', ');
    return new AppError('INSUFFICIENT_STOCK', `Units named for order ${orderId} are not available: ${named}`, { shortfall: failedLines, unavailableSerials });
  }
  return new AppError('INSUFFICIENT_STOCK', `Not enough stock to ${order.mode} order ${orderId}`, { shortfall: failedLines });
}

/**
 * Serves orders in the given order through ONE engine call (one lock of their lots), each answered
 * as if it had come alone: an order naming unknown products or warehouses is refused (400) and left
 * out; one that gets nothing and backorders nothing is refused with 409 INSUFFICIENT_STOCK and the
 * shortfall of each line, and changes nothing. Refusals are returned, not thrown, so the others
 * still commit. Returns the writes for the caller to commit (with its own, such as kept answers).
 */
export async function serveOrders(
  tx: Transaction,
  orders: readonly OrderToServe[],
  ctx: Pick<UseCaseContext, 'now' | 'config'>,
): Promise<{ outcomes: (OrderOutcome | AppError)[]; writes: Writes }> {
  const { outcomes, writes } = await serve(tx, orders.map(toEngineRequest), ctx);
  return { outcomes: orders.map((order, index) => outcomeOf(order, outcomes[index]!)), writes };
}

/** Holds stock for an order until it is allocated, released or its hold expires, in the caller's transaction; refusals are thrown. */
export async function reserveStock(tx: Transaction, input: ReserveInput, ctx: UseCaseContext): Promise<OrderOutcome> {
  checkReserveInput(input, ctx.config);
  const { outcomes, writes } = await serveOrders(tx, [{ mode: 'reserve', input, actor: ctx.actor, owner: ctx.scope.owner }], ctx);
  const [outcome] = outcomes;
  if (outcome instanceof AppError) throw outcome;
  await commitWrites(tx, writes);
  return outcome!;
}

function toEngineRequest({ mode, input, actor, owner, traceparent }: OrderToServe): EngineRequest {
  return {
    key: input.orderId,
    mode,
    lines: input.items,
    strategy: input.strategy,
    priority: input.priority,
    allowPartial: input.allowPartial,
    allowBackorder: input.allowBackorder,
    ...(input.destination ? { destination: input.destination } : {}),
    owner,
    orderId: input.orderId,
    referenceType: 'order',
    ...(input.customerId ? { customerId: input.customerId } : {}),
    ...(input.timeoutMinutes ? { reservationMinutes: input.timeoutMinutes } : {}),
    actor,
    unknownReferences: 'refuse',
    ...(traceparent === undefined ? {} : { traceparent }),
  };
}
