/** Reserve stock for an order, or allocate it directly: one request through the engine. */
import { assertKnownReferences } from '../catalogue/catalogue';
import type { Config } from '../config';
import type { Transaction } from '../db/client';
import { AppError } from '../errors';
import type { AllocateDirectInput, BackorderedAnswer, ReserveAnswer, ReserveInput } from '../schemas/reservations';
import { serveRequests } from './engine';

/** What a synchronous inventory call needs besides its input. */
export type UseCaseContext = { now: Date; actor: string; config: Pick<Config, 'RESERVATION_TIMEOUT_MINUTES' | 'RESERVATION_MAX_MINUTES'> };

/** 201 with what was taken (and what was short or backordered), or 202 when everything was backordered. */
export type ServeResult = { status: 201; body: ReserveAnswer } | { status: 202; body: BackorderedAnswer };

/**
 * Serves one order through the engine. Unknown products or warehouses are bad input (400); a
 * request that gets nothing and backorders nothing is refused with 409 INSUFFICIENT_STOCK and the
 * shortfall of each line, and changes nothing.
 */
export async function serveOrder(
  tx: Transaction,
  mode: 'reserve' | 'allocate',
  input: AllocateDirectInput & { timeoutMinutes?: number | undefined },
  ctx: UseCaseContext,
): Promise<ServeResult> {
  await assertKnownReferences(tx, {
    productIds: input.items.map((item) => item.productId),
    warehouseIds: input.items.flatMap((item) => (item.warehouseId === undefined ? [] : [item.warehouseId])),
  });
  const [outcome] = await serveRequests(
    tx,
    [
      {
        key: input.orderId,
        mode,
        lines: input.items,
        strategy: input.strategy,
        priority: input.priority,
        allowPartial: input.allowPartial,
        allowBackorder: input.allowBackorder,
        ...(input.destination ? { destination: input.destination } : {}),
        orderId: input.orderId,
        referenceType: 'order',
        ...(input.customerId ? { customerId: input.customerId } : {}),
        ...(input.timeoutMinutes ? { reservationMinutes: input.timeoutMinutes } : {}),
        actor: ctx.actor,
      },
    ],
    ctx,
  );
  const { reservation, failedLines, backorders } = outcome!;
  if (reservation !== null) return { status: 201, body: { ...reservation, shortfall: failedLines, backorders } };
  if (backorders.length > 0) {
    return { status: 202, body: { reservationId: null, orderId: input.orderId, status: 'BACKORDERED', shortfall: failedLines, backorders } };
  }
  throw new AppError('INSUFFICIENT_STOCK', `Not enough stock to ${mode} order ${input.orderId}`, { shortfall: failedLines });
}

/** Holds stock for an order until it is allocated, released or its hold expires. */
export async function reserveStock(tx: Transaction, input: ReserveInput, ctx: UseCaseContext): Promise<ServeResult> {
  if (input.timeoutMinutes !== undefined && input.timeoutMinutes > ctx.config.RESERVATION_MAX_MINUTES) {
    throw new AppError('VALIDATION_FAILED', `timeoutMinutes may be at most ${ctx.config.RESERVATION_MAX_MINUTES}`, {
      issues: [{ path: 'timeoutMinutes', message: `must be at most ${ctx.config.RESERVATION_MAX_MINUTES}`, code: 'too_big' }],
    });
  }
  return serveOrder(tx, 'reserve', input, ctx);
}
