import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createUnitsApp } from '../../inventory/units/application';
import {
  listUnitsQuery,
  markUnitsAnswerSchema,
  markUnitsBody,
  orderInventoryParams,
  orderInventoryQuery,
  orderInventorySchema,
  serialNumberParams,
  unitDetailSchema,
  unitLookupQuery,
  unitPageSchema,
} from '../../schemas/units';
import type { AppDeps } from '../app-deps';
import { idempotencyHeaders, sendAnswer } from '../idempotency';
import { errorResponses } from '../openapi';

const ownerNote =
  " A unit of another owner's reservation shows its status only (`reservationId` and `orderId` null); `orderId` finds the caller's own order's units (an admin's: every owner's).";

const markDescription = (target: string, how: string) =>
  `Either every unit of an order (\`orderId\`, the caller's own order) not yet ${target}, or units of one product by serial number ` +
  `(\`productId\`, \`serialNumbers\`). ${how} All the units move or none: 409 INVALID_TRANSITION lists in \`details.units\` each unit refused ` +
  'and why (its status, UNKNOWN for a serial number the product does not have, a hold that ended, another owner). 404 for an order without units.';

/** Units of serial-tracked products (seed 004): find them, read one with its history, mark them sold or delivered, and an order's inventory. */
export function unitRoutes(app: FastifyInstance, deps: AppDeps): void {
  const units = createUnitsApp(deps);
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/units',
    {
      schema: {
        operationId: 'listUnits',
        tags: ['units'],
        summary: 'Find units by product, status, order, serial number and warehouse',
        description:
          'Current units only: of a serial number delivered or written off and then returned, the unit of its latest life. Every filter given ' +
          'narrows the list: productId, status (one or a comma-separated list), orderId (units its reservations hold, sold or ' +
          "delivered), serialNumber, warehouseId. By product and serial number; pass the answer's `nextCursor` as `cursor` for the next page." +
          ownerNote,
        querystring: listUnitsQuery,
        response: { 200: unitPageSchema },
      },
    },
    async (request) => units.find(request.caller, request.query),
  );

  api.get(
    '/units/:serialNumber',
    {
      schema: {
        operationId: 'getUnit',
        tags: ['units'],
        summary: 'A unit by serial number, with its status history',
        description:
          "The serial number's current unit (its latest life: a unit delivered or written off that came back by a RETURN is a new unit, " +
          '`previousUnitId` the one it returns) and the history of all its lives, oldest first, each step naming its `unitId` and `life`. ' +
          'Serial numbers are unique per product, not across products: when several products have a unit of this serial number, name the product ' +
          'with `productId` (409 CONFLICT lists them, `details.productIds`). 404 when no product (or not the one named) has it.' +
          ownerNote,
        params: serialNumberParams,
        querystring: unitLookupQuery,
        response: { 200: unitDetailSchema, ...errorResponses(404, 409) },
      },
    },
    async (request) => units.get(request.caller, request.params.serialNumber, request.query.productId),
  );

  api.post(
    '/units/mark-sold',
    {
      schema: {
        operationId: 'markUnitsSold',
        tags: ['units'],
        summary: 'Mark Reserved units Sold by allocating their reservations',
        description: markDescription(
          'SOLD',
          'Each reservation holding them is allocated whole, as POST /inventory/allocate does (lot-tracked lines of it too), so units named by ' +
            'serial number must be every unit their reservations hold.',
        ),
        headers: idempotencyHeaders,
        body: markUnitsBody,
        response: { 200: markUnitsAnswerSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await units.mark(request.caller, 'SOLD', request.headers['idempotency-key'], request.body)),
  );

  api.post(
    '/units/mark-delivered',
    {
      schema: {
        operationId: 'markUnitsDelivered',
        tags: ['units'],
        summary: 'Mark Sold units Delivered by shipping them',
        description: markDescription(
          'DELIVERED',
          'Named units are shipped exactly, as POST /inventory/ship does (the reservation is FULFILLED once everything it allocated has shipped); ' +
            "an order's allocated reservations are shipped whole.",
        ),
        headers: idempotencyHeaders,
        body: markUnitsBody,
        response: { 200: markUnitsAnswerSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => sendAnswer(reply, await units.mark(request.caller, 'DELIVERED', request.headers['idempotency-key'], request.body)),
  );

  api.get(
    '/orders/:orderId/inventory',
    {
      schema: {
        operationId: 'getOrderInventory',
        tags: ['units'],
        summary: "An order's reservations, lines and units, and whether they agree",
        description:
          'Every reservation of the order with its lots and history, every unit its reservations hold, sold or delivered, and `disagreements`: ' +
          'for each reservation, lot and unit status (RESERVED, SOLD, DELIVERED) whose units differ in number from what its lines say; ' +
          "`consistent` is true when there is none. The caller's own order; an admin sees every owner's order of that id, or one owner's with `owner`. " +
          '404 when the order has no reservation.',
        params: orderInventoryParams,
        querystring: orderInventoryQuery,
        response: { 200: orderInventorySchema, ...errorResponses(404) },
      },
    },
    async (request) => units.orderInventory(request.caller, request.params.orderId, request.query.owner),
  );
}
