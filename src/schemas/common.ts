import { z } from 'zod';
import { priorities } from '../domain/priority';
import { missingDestination, strategies, strategyChoice, type GeoPoint, type Strategy } from '../domain/strategies';

/** An id given by its owner (catalogue product id, warehouse id such as wh-001). */
export const externalId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected 1-64 characters of letters, digits and ._:-');

export const uuidSchema = z.uuid();

/** A serial number of one unit of a serial-tracked product: 1-100 letters, digits and ._:- (it stands in a URL path). */
export const serialNumberSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'expected 1-100 characters of letters, digits and ._:-');

/** The units of a serial-tracked product a request line names, one per unit of its quantity, none twice. */
export const namedSerialsSchema = z
  .array(serialNumberSchema)
  .min(1)
  .max(1000)
  .refine((serials) => new Set(serials).size === serials.length, { error: 'a serial number is named twice' });

/** A request line naming serial numbers names one per unit of its quantity. */
export const serialsMatchQuantity = (line: { quantity: number; serialNumbers?: readonly string[] | undefined }) =>
  line.serialNumbers === undefined || line.serialNumbers.length === line.quantity;
export const serialsMatchQuantityIssue = { message: 'give one serial number per unit of quantity', path: ['serialNumbers'] };

/** The units a request line could not have, and why (a unit's status, or UNKNOWN, ELSEWHERE, NOT_SERVING). */
export const unavailableSerialsSchema = z.array(z.object({ serialNumber: z.string(), status: z.string() }));

/** A positive whole number of units, at most 1,000,000 on one line. */
export const quantitySchema = z.number().int().positive().max(1_000_000);

/** A signed whole-unit change for ADJUSTMENT lines: never zero, at most 1,000,000 either way. */
export const signedQuantitySchema = z
  .number()
  .int()
  .min(-1_000_000)
  .max(1_000_000)
  .refine((value) => value !== 0, 'must not be zero');

export const timestampSchema = z.iso.datetime({ offset: true });

// Cc is NUL, the other C0 controls, DEL and the C1 controls; Cs matches only lone surrogates in a `u` regex.
const controlCharacter = /\p{Cc}/u;
const controlCharacterExceptLineBreaks = /[^\P{Cc}\t\n\r]/u;
const loneSurrogate = /\p{Cs}/u;

/**
 * Text a caller writes and Postgres can store: no NUL or other control characters (free text such
 * as a reason may hold tabs and line breaks), no lone surrogates. Lengths count UTF-16 code units.
 */
export function userText(max: number, options: { min?: number; multiline?: boolean } = {}) {
  const controls = options.multiline ? controlCharacterExceptLineBreaks : controlCharacter;
  const allowed = options.multiline ? 'NUL or control characters other than tab and line breaks' : 'NUL, line breaks or other control characters';
  return z
    .string()
    .min(options.min ?? 1)
    .max(max)
    .refine((value) => !controls.test(value), `must not contain ${allowed}`)
    .refine((value) => !loneSurrogate.test(value), 'must be valid Unicode (a lone surrogate is not)');
}

/** Why something was done, in the caller's words: may run over several lines. */
export const reasonText = userText(500, { multiline: true });

/** An owner of reservations, backorders and jobs (src/domain/ownership.ts): a filter of admins' list calls. */
export const ownerQuery = userText(200).describe(
  "Admins only: just the objects of this owner (a token's `tenant`, else its `sub`). A service caller sees its own owner's objects whatever it names; naming another finds nothing.",
);

/** An Idempotency-Key as a caller writes it: printable ASCII, 1-200 characters. */
export const idempotencyKeyText = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'expected 1-200 printable characters');

/** A reference to something outside Stockroom: an order, a purchase order, a job reference. */
export const referenceText = userText(200);

export const geoPointSchema = z.strictObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

/** The strategies' precondition (strategyChoice, src/domain/strategies.ts) as a refinement of a body naming a strategy and a destination. */
export const hasDestinationWhenNeeded = (body: { strategy: Strategy; destination?: GeoPoint | undefined }): boolean =>
  strategyChoice(body.strategy, body.destination) !== null;
/** Where and how a body that fails hasDestinationWhenNeeded is refused. */
export const destinationWhenNeeded = { error: missingDestination, path: ['destination'] };

/**
 * A line of stock asked for — a product, how many, optionally from which warehouse and which units —
 * as reserve, direct allocate, an allocation job and an OrderCreated event all take it.
 */
export const stockLineFields = {
  productId: externalId,
  quantity: quantitySchema,
  warehouseId: externalId.optional(),
  /** units of a serial-tracked product by serial number: exactly these, or the line gets nothing */
  serialNumbers: namedSerialsSchema.optional(),
};
/** A stock line: strict in a request body; loose in a consumed event, which may carry fields Stockroom does not read (they are dropped). */
export const stockLineOf = (shape: 'strict' | 'loose') =>
  (shape === 'strict' ? z.strictObject(stockLineFields) : z.object(stockLineFields)).refine(serialsMatchQuantity, serialsMatchQuantityIssue);

/** How a request is served, with the defaults every way in shares (refine the body with hasDestinationWhenNeeded). */
export const servingFields = {
  strategy: z.enum(strategies).default('fifo'),
  allowPartial: z.boolean().default(false),
  allowBackorder: z.boolean().default(false),
  priority: z.enum(priorities).default('medium'),
  destination: geoPointSchema.optional(),
};

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/**
 * The error body of a 503 OVERLOADED: the allocation backlog at its bound; `Retry-After` and
 * `details.retryAfterSeconds` say when to try again in whole seconds, `details.retryAfterMs` to the millisecond.
 */
export const overloadedErrorSchema = errorBodySchema.meta({
  example: {
    error: {
      code: 'OVERLOADED',
      message: '2000 allocation jobs are waiting to be served, the most this service accepts; try again in 250 ms',
      details: { retryAfterSeconds: 1, retryAfterMs: 250, backlog: 2000, maxBacklog: 2000 },
    },
  },
});

/** Page through a list: `limit` items after `offset`. */
export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** A comma-separated list of values of an enum in a query string, e.g. `status=RESERVED,EXPIRED`. */
export function valueList<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()))
    .pipe(z.array(z.enum(values)).min(1));
}

/** Page through a list by cursor: `limit` items after the one whose id is `cursor` (the previous page's `nextCursor`). */
export const cursorPageQuery = {
  limit: paginationQuery.shape.limit,
  cursor: uuidSchema.optional(),
};

/** True unless both ends of a time range are given and the range ends before it starts. */
export const rangeInOrder = (from: Date | undefined, to: Date | undefined): boolean => from === undefined || to === undefined || from <= to;

/** A timestamp the code holds as a Date and the API writes as ISO 8601 UTC; use it in response schemas. */
export const isoTimestamp = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

/** A listing's time range: `from` included, `to` excluded. */
export const timeRangeQuery = { from: isoTimestamp.optional(), to: isoTimestamp.optional() };
