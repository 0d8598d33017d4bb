import type { TestApp } from './app';
import { adjust } from './inventory';

/** Receives units under the serial numbers into a new lot of a serial-tracked product; returns the lot's id. */
export async function receiveUnits(
  t: TestApp,
  productId: string,
  warehouseId: string,
  serials: string[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await adjust(t, [
    {
      productId,
      warehouseId,
      type: 'RECEIPT',
      quantity: serials.length,
      reason: 'delivery',
      units: serials.map((serialNumber) => ({ serialNumber })),
      ...extra,
    },
  ]);
  expect(response.statusCode).toBe(200);
  return response.json<{ adjustments: { movements: { lotId: string }[] }[] }>().adjustments[0]!.movements[0]!.lotId;
}

/** Each current unit (latest life) of the product, by serial number: its status and reservation. */
export async function unitsOf(t: TestApp, productId: string): Promise<Record<string, [string, string | null]>> {
  const { rows } = await t.db.pool.query<{ serial: string; status: string; reservationId: string | null }>(
    `select distinct on (serial_number) serial_number as serial, status, reservation_id as "reservationId"
       from stock_units where product_id = $1 order by serial_number, life desc`,
    [productId],
  );
  return Object.fromEntries(rows.map((row) => [row.serial, [row.status, row.reservationId]]));
}
