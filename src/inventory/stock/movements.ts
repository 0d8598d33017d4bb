import { getProduct } from '../../catalogue/catalogue';
import type { Queryable } from '../../db/client';
import type { MovementRow } from '../../db/lot-store';
import { listMovements } from '../../db/movement-store';
import type { MovementsQuery, MovementsResponse, MovementView } from '../../schemas/inventory';

/** A ledger row as the API shows it. */
export function toMovementView({ id, ...row }: MovementRow): MovementView {
  return { movementId: id, ...row };
}

/** One page of a product's ledger, newest first; `nextCursor` fetches the page after it. 404 for an unknown product. */
export async function listProductMovements(db: Queryable, productId: string, query: MovementsQuery): Promise<MovementsResponse> {
  await getProduct(db, productId);
  const rows = await listMovements(db, {
    productId,
    limit: query.limit + 1,
    ...(query.type === undefined ? {} : { types: query.type }),
    ...(query.warehouseId === undefined ? {} : { warehouseId: query.warehouseId }),
    ...(query.from === undefined ? {} : { from: query.from }),
    ...(query.to === undefined ? {} : { to: query.to }),
    ...(query.cursor === undefined ? {} : { beforeId: query.cursor }),
  });
  const page = rows.slice(0, query.limit);
  return { productId, items: page.map(toMovementView), nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
}
