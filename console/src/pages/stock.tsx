import { api } from '../api';
import { formText, number, relative, time } from '../format';
import { href } from '../route';
import type { LowStockItem, Movement, Page, ProductInventory, Reservation } from '../types';
import { ErrorNote, PageHeading, Status, useLoad } from '../ui';
import { ReservationTable } from './reservations';

/** A product's stock per warehouse and lot, its recent ledger and reservations; without a product, the low-stock list. */
export function StockPage({ productId }: { productId: string | undefined }) {
  const open = (event: Event) => {
    event.preventDefault();
    const value = formText(new FormData(event.currentTarget as HTMLFormElement), 'productId');
    if (value) location.hash = href('stock', value);
  };
  return (
    <>
      <PageHeading title={productId ? `Stock of ${productId}` : 'Stock'}>
        <form class="filters" onSubmit={open} aria-label="Open a product">
          <label>
            Product id
            <input name="productId" defaultValue={productId} placeholder="demo-0001" spellcheck={false} required />
          </label>
          <button type="submit">Show</button>
        </form>
      </PageHeading>
      {productId ? <ProductStock productId={productId} /> : <LowStock />}
    </>
  );
}

function ProductStock({ productId }: { productId: string }) {
  const path = `/inventory/${encodeURIComponent(productId)}`;
  const stock = useLoad(() => api<ProductInventory>('GET', path), productId);
  const ledger = useLoad(() => api<{ items: Movement[] }>('GET', `${path}/movements`, { query: { limit: 20 } }), productId);
  const reservations = useLoad(() => api<Page<Reservation>>('GET', '/inventory/reservations', { query: { productId, limit: 20 } }), productId);
  const product = stock.data;
  return (
    <>
      <ErrorNote error={stock.error} />
      {product && (
        <section aria-labelledby="levels-heading">
          <h2 id="levels-heading">
            {product.name} <span class="hint">({product.sku})</span>
          </h2>
          <dl class="figures compact">
            {(
              [
                ['On hand', product.totalQuantity],
                ['Reserved', product.totalReserved],
                ['Allocated', product.totalAllocated],
                ['Expired', product.totalExpired],
                ['Available', product.totalAvailable],
              ] as const
            ).map(([label, value]) => (
              <div class="figure" key={label}>
                <dt>{label}</dt>
                <dd>
                  <span class="figure-value">{number(value)}</span>
                </dd>
              </div>
            ))}
          </dl>
          {product.warehouses.map((warehouse) => (
            <div class="table-wrap" key={warehouse.warehouseId}>
              <table>
                <caption>
                  {warehouse.warehouseName} ({warehouse.warehouseId}): {number(warehouse.quantityAvailable)} available of {number(warehouse.quantityOnHand)} on
                  hand
                  {warehouse.reorderPoint !== null ? `, reorder at ${number(warehouse.reorderPoint)}` : ''}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Lot</th>
                    <th scope="col">On hand</th>
                    <th scope="col">Reserved</th>
                    <th scope="col">Allocated</th>
                    <th scope="col">Available</th>
                    <th scope="col">Received</th>
                    <th scope="col">Expires</th>
                  </tr>
                </thead>
                <tbody>
                  {warehouse.lots.map((lot) => (
                    <tr key={lot.lotId} class={lot.expired ? 'muted' : undefined}>
                      <td title={lot.lotId}>{lot.lotNumber ?? lot.lotId}</td>
                      <td>{number(lot.quantity)}</td>
                      <td>{number(lot.reservedQuantity)}</td>
                      <td>{number(lot.allocatedQuantity)}</td>
                      <td>{number(lot.availableQuantity)}</td>
                      <td>{time(lot.receivedAt)}</td>
                      <td>{lot.expired ? 'expired' : time(lot.expiresAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </section>
      )}
      <section aria-labelledby="ledger-heading">
        <h2 id="ledger-heading">Recent ledger</h2>
        <ErrorNote error={ledger.error} />
        {ledger.data && (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">The product's last 20 movements, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Type</th>
                  <th scope="col">Warehouse</th>
                  <th scope="col">On hand Δ</th>
                  <th scope="col">Reserved Δ</th>
                  <th scope="col">Allocated Δ</th>
                  <th scope="col">Reference</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {ledger.data.items.map((movement) => (
                  <tr key={movement.movementId}>
                    <td title={time(movement.createdAt)}>{relative(movement.createdAt)}</td>
                    <td>{movement.type}</td>
                    <td>{movement.warehouseId}</td>
                    <td>{number(movement.quantityDelta)}</td>
                    <td>{number(movement.reservedDelta)}</td>
                    <td>{number(movement.allocatedDelta)}</td>
                    <td>{movement.referenceId ? `${movement.referenceType ?? ''} ${movement.referenceId}` : '–'}</td>
                    <td>{movement.actor}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {ledger.data.items.length === 0 && <p>No movement yet.</p>}
          </div>
        )}
      </section>
      <section aria-labelledby="product-reservations-heading">
        <h2 id="product-reservations-heading">Reservations</h2>
        <ErrorNote error={reservations.error} />
        {reservations.data && <ReservationTable items={reservations.data.items} caption="The product's latest reservations" />}
        <p>
          <a href={href('reservations', { productId })}>All reservations of {productId}</a>
        </p>
      </section>
    </>
  );
}

function LowStock() {
  const list = useLoad(
    () => api<{ items: LowStockItem[]; totalItems: number; criticalItems: number }>('GET', '/inventory/low-stock', { query: { limit: 100 } }),
    'low',
  );
  return (
    <section aria-labelledby="low-heading">
      <h2 id="low-heading">Low stock</h2>
      <ErrorNote error={list.error} />
      {list.data && (
        <>
          <p>
            {number(list.data.totalItems)} product{list.data.totalItems === 1 ? '' : 's'} at a warehouse at or under the reorder point,{' '}
            {number(list.data.criticalItems)} critical.
          </p>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Products at or under their reorder point</caption>
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Product</th>
                  <th scope="col">Warehouse</th>
                  <th scope="col">Available</th>
                  <th scope="col">Reorder point</th>
                  <th scope="col">Minimum</th>
                  <th scope="col">Days of supply</th>
                  <th scope="col">Suggested order</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((item) => (
                  <tr key={`${item.productId}/${item.warehouseId}`}>
                    <td>
                      <Status value={item.severity} />
                    </td>
                    <td>
                      <a href={href('stock', item.productId)}>{item.productId}</a> {item.productName}
                    </td>
                    <td>{item.warehouseName}</td>
                    <td>{number(item.currentStock)}</td>
                    <td>{number(item.reorderPoint)}</td>
                    <td>{number(item.minStockLevel)}</td>
                    <td>{number(item.daysOfSupply, 1)}</td>
                    <td>{number(item.suggestedOrderQuantity)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
