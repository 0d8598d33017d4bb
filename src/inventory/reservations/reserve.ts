/** Reserve stock for an order, or allocate it directly: requests through the engine. */
import type { Config } from '../../config';
import type { Statement, Transaction } from '../../db/client';
import { AppError } from '../../errors';
import type { AllocateDirectInput, BackorderedAnswer, ReserveAnswer, ReserveInput } from '../../schemas/reservations';
import { lockStockFor, serveRequests, type EngineRequest, type UnknownReferences } from '../engine';

/** What a synchronous inventory call needs besides its input. */
export type UseCaseContext = { now: Date; actor: string; config: Pick<Config, 'RESERVATION_TIMEOUT_MINUTES' | 'RESERVATION_MAX_MINUTES'> };

/** 201 with what was taken (and what was short or backordered), or 202 when everything was backordered. */
export type ServeResult = { status: 201; body: ReserveAnswer } | { status: 202; body: BackorderedAnswer };

/** One order to reserve or allocate directly, on behalf of `actor`. */
export type OrderToServe = { mode: 'reserve' | 'allocate'; input: AllocateDirectInput & { timeoutMinutes?: number | undefined }; actor: string };

/** Refuses a hold longer than the configured maximum (400), before anything is looked up. */
export function checkReserveInput(input: Pick<ReserveInput, 'timeoutMinutes'>, config: UseCaseContext['config']): void {
  if (input.timeoutMinutes !== undefined && input.timeoutMinutes > config.RESERVATION_MAX_MINUTES) {
    throw new AppError('VALIDATION_FAILED', `timeoutMinutes may be at most ${config.RESERVATION_MAX_MINUTES}`, {
      issues: [{ path: 'timeoutMinutes', message: `must be at most ${config.RESERVATION_MAX_MINUTES}`, code: 'too_big' }],
    });
  }
}

/**
 * Serves orders in the given order through ONE engine call (one lock of their lots), each answered
 * as if it had come alone: an order naming unknown products or warehouses is refused (400) and left
 * out; one that gets nothing and backorders nothing is refused with 409 INSUFFICIENT_STOCK and the
 * shortfall of each line, and changes nothing. Refusals are returned, not thrown, so the others
 * still commit. `writeWith` adds the caller's writes, built from the answers, to the engine's last
 * statement.
 */
export async function serveOrders(
  tx: Transaction,
  orders: readonly OrderToServe[],
  ctx: Pick<UseCaseContext, 'now' | 'config'>,
  writeWith?: (answers: readonly (ServeResult | AppError)[]) => readonly (Statement | undefined)[],
): Promise<(ServeResult | AppError)[]> {
  const requests = orders.map(toEngineRequest);
  const locked = await lockStockFor(tx, requests);
  const refusals = requests.map((request) => unknownReferenceError(request, locked.unknown));
  const served = requests.filter((_, index) => refusals[index] === undefined);
  let answers: (ServeResult | AppError)[] = [];
  await serveRequests(tx, served, ctx, {
    locked,
    writeWith: (outcomes) => {
      let next = 0;
      answers = orders.map((order, index) => {
        const refused = refusals[index];
        if (refused !== undefined) return refused;
        const { reservation, failedLines, backorders } = outcomes[next++]!;
        const { orderId } = order.input;
        if (reservation !== null) return { status: 201, body: { ...reservation, shortfall: failedLines, backorders } };
        if (backorders.length > 0) return { status: 202, body: { reservationId: null, orderId, status: 'BACKORDERED', shortfall: failedLines, backorders } };
        return new AppError('INSUFFICIENT_STOCK', `Not enough stock to ${order.mode} order ${orderId}`, { shortfall: failedLines });
      });
      return writeWith?.(answers) ?? [];
    },
  });
  return answers;
}

/** Serves one order (a batch of one); refusals are thrown. */
export async function serveOrder(tx: Transaction, order: OrderToServe, ctx: Pick<UseCaseContext, 'now' | 'config'>): Promise<ServeResult> {
  const [answer] = await serveOrders(tx, [order], ctx);
  if (answer instanceof AppError) throw answer;
  return answer!;
}

/** Holds stock for an order until it is allocated, released or its hold expires. */
export async function reserveStock(tx: Transaction, input: ReserveInput, ctx: UseCaseContext): Promise<ServeResult> {
  checkReserveInput(input, ctx.config);
  return serveOrder(tx, { mode: 'reserve', input, actor: ctx.actor }, ctx);
}

function toEngineRequest({ mode, input, actor }: OrderToServe): EngineRequest {
  return {
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
    actor,
  };
}

/** 400 UNKNOWN_REFERENCE naming what this request names that does not exist, or undefined. */
function unknownReferenceError(request: EngineRequest, unknown: UnknownReferences): AppError | undefined {
  const products = [...new Set(request.lines.map((line) => line.productId))].filter((id) => unknown.products.has(id));
  const warehouses = [...new Set(request.lines.flatMap((line) => (line.warehouseId === undefined ? [] : [line.warehouseId])))].filter((id) =>
    unknown.warehouses.has(id),
  );
  if (products.length === 0 && warehouses.length === 0) return undefined;
  return new AppError('UNKNOWN_REFERENCE', 'The request names products or warehouses that do not exist', {
    ...(products.length ? { unknownProducts: products } : {}),
    ...(warehouses.length ? { unknownWarehouses: warehouses } : {}),
  });
}
