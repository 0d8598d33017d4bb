/** Move a reservation's held units to another order: POST /inventory/reservations/:id/transfer. */
import { newId } from '../../ids';
import type { Transaction } from '../../db/client';
import { lockAggregates } from '../../db/outbox-store';
import { findReservationLines } from '../../db/reservation-store';
import { findUnitsOfReservation } from '../../db/unit-store';
import { commitWrites } from '../../db/writes';
import { unitsHandedOver } from '../../domain/units';
import { effectiveStatus, heldOf, type NewReservation, type NewReservationLine } from '../../domain/reservation';
import { planMove } from '../../domain/reservation-move';
import { stockLinesOf } from '../../domain/stock-lines';
import { AppError } from '../../errors';
import { outboxRows } from '../../events/outbox';
import type { ReservationTransferAnswer, TransferReservationInput } from '../../schemas/reservations';
import { checkReserveInput, type UseCaseContext } from './reserve';
import { loadReservationDetail, lockForChange } from './transitions';

const MINUTE_MS = 60_000;

/**
 * Moves all or part of a RESERVED reservation's held units to a new reservation for `input.orderId`,
 * in the caller's transaction: the same lots (no stock moves, the units stay reserved), the same
 * expiry unless timeoutMinutes is given, the same priority and strategy. The source's lines record
 * the units as moved; with nothing left it becomes RELEASED. Each side gets a history row and an
 * event (ReservationTransferredOut, ReservationTransferredIn). Refuses (409) a reservation that is
 * not RESERVED or whose hold has ended, and items beyond what it holds; changes nothing then.
 */
export async function moveReservation(
  tx: Transaction,
  reservationId: string,
  input: TransferReservationInput,
  ctx: UseCaseContext,
): Promise<ReservationTransferAnswer> {
  checkReserveInput(input, ctx.config);
  const source = await lockForChange(tx, reservationId, input.version, ctx.scope);
  // the new reservation is the same owner's; the order it goes to takes its events one at a time (see order-events.ts)
  await lockAggregates(tx, [`order:${source.owner}:${input.orderId}`]);
  const status = effectiveStatus(source, ctx.now);
  if (status !== 'RESERVED') {
    const lapsed = status !== source.status ? ` (its hold ended at ${source.expiresAt.toISOString()})` : '';
    throw new AppError('INVALID_TRANSITION', `Reservation is ${status}${lapsed}; only a RESERVED reservation whose hold has not ended can be moved`, {
      reservationId,
      status,
    });
  }
  const lines = await findReservationLines(tx, [reservationId]);
  const plan = planMove(lines, input.items);
  if (plan.shortfalls.length > 0) {
    const [first] = plan.shortfalls;
    throw new AppError('CONFLICT', `Reservation ${reservationId} holds ${first!.held} of ${first!.productId}; ${first!.requested} requested`, {
      reservationId,
      shortfall: plan.shortfalls,
    });
  }
  if (plan.moves.length === 0) throw new AppError('CONFLICT', `Reservation ${reservationId} holds nothing to move`, { reservationId });

  const target: NewReservation = {
    id: newId(),
    owner: source.owner,
    orderId: input.orderId,
    customerId: input.customerId ?? source.customerId,
    status: 'RESERVED',
    priority: source.priority,
    strategy: source.strategy,
    expiresAt: input.timeoutMinutes === undefined ? source.expiresAt : new Date(ctx.now.getTime() + input.timeoutMinutes * MINUTE_MS),
    createdAt: ctx.now,
  };
  const targetLines: NewReservationLine[] = plan.moves.map((move) => ({
    id: newId(),
    reservationId: target.id,
    lotId: move.lotId,
    productId: move.productId,
    warehouseId: move.warehouseId,
    quantity: move.quantity,
    allocatedQuantity: 0,
  }));
  const moved = new Map(plan.moves.map((move) => [move.lineId, move.quantity]));
  const emptied = lines.every((line) => heldOf(line) === (moved.get(line.id) ?? 0));
  const sourceStatus = emptied ? 'RELEASED' : 'RESERVED';
  const items = stockLinesOf(plan.moves);
  const reason = input.reason ?? null;
  const note = reason === null ? '' : `: ${reason}`;
  const units = plan.moves.reduce((sum, move) => sum + move.quantity, 0);
  // units of serial-tracked lots (the lots the source has units in) go with their reservation; the source is locked, so its units hold still
  const sourceUnits = await findUnitsOfReservation(tx, source.id);
  const serialLots = new Set(sourceUnits.map((unit) => unit.lotId));
  const handedOver = unitsHandedOver(
    sourceUnits,
    plan.moves.filter((move) => serialLots.has(move.lotId)),
    source.id,
    target.id,
    ctx.actor,
  );

  await commitWrites(tx, {
    unitChanges: handedOver.changes.map((change) => ({ ...change, at: ctx.now })),
    unitSteps: handedOver.steps.map((step) => ({ ...step, at: ctx.now })),
    reservations: [target],
    reservationLines: targetLines,
    reservationChanges: [{ id: source.id, status: sourceStatus, at: ctx.now }],
    lineChanges: plan.moves.map((move) => ({ id: move.lineId, movedDelta: move.quantity })),
    statusHistory: [
      {
        reservationId: source.id,
        fromStatus: 'RESERVED',
        toStatus: sourceStatus,
        reason: `${units} units moved to order ${target.orderId}${note}`,
        reference: target.id,
        actor: ctx.actor,
        at: ctx.now,
      },
      {
        reservationId: target.id,
        fromStatus: null,
        toStatus: 'RESERVED',
        reason: `${units} units moved from order ${source.orderId}${note}`,
        reference: source.id,
        actor: ctx.actor,
        at: ctx.now,
      },
    ],
    outbox: outboxRows(
      [
        {
          type: 'ReservationTransferredOut',
          reservationId: source.id,
          orderId: source.orderId,
          toReservationId: target.id,
          toOrderId: target.orderId,
          items,
          status: sourceStatus,
          reason,
          transferredBy: ctx.actor,
          timestamp: ctx.now,
        },
        {
          type: 'ReservationTransferredIn',
          reservationId: target.id,
          orderId: target.orderId,
          customerId: target.customerId,
          fromReservationId: source.id,
          fromOrderId: source.orderId,
          items,
          expiresAt: target.expiresAt,
          reason,
          transferredBy: ctx.actor,
          timestamp: ctx.now,
        },
      ],
      ctx.now,
    ),
  });
  return { from: await loadReservationDetail(tx, source.id, ctx.now, ctx.scope), to: await loadReservationDetail(tx, target.id, ctx.now, ctx.scope) };
}
