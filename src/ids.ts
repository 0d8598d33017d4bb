/** Row ids: uuid v7. */
import { randomFillSync } from 'node:crypto';

/** Ids whose random bytes one refill of the pool gives. */
const POOL_IDS = 256;
const pool = Buffer.allocUnsafe(16 * POOL_IDS);
let next = pool.length;
/** The last id's millisecond and sequence: a later id takes a later millisecond, or the next sequence in the same one. */
let lastMs = -Infinity;
let seq = 0;
const hex = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * A fresh uuid v7, laid out as the uuid package lays out its own (the millisecond, then a 32-bit
 * sequence that starts random in each millisecond and counts up within it, then random bits), so
 * an id given later sorts after every one given before by this process. The random bytes come from
 * a pool refilled 256 ids at a time: the uuid package asks the system for more every 16 ids, and
 * those randomFillSync calls were 2-7 % of the worker's JavaScript.
 */
export function newId(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const r = next;
  next += 16;
  const now = Date.now();
  if (now > lastMs) {
    seq = (pool[r + 6]! << 23) | (pool[r + 7]! << 16) | (pool[r + 8]! << 8) | pool[r + 9]!;
    lastMs = now;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  const ms = lastMs;
  return (
    hex[(ms / 0x10000000000) & 0xff]! +
    hex[(ms / 0x100000000) & 0xff]! +
    hex[(ms / 0x1000000) & 0xff]! +
    hex[(ms / 0x10000) & 0xff]! +
    '-' +
    hex[(ms / 0x100) & 0xff]! +
    hex[ms & 0xff]! +
    '-' +
    hex[0x70 | ((seq >>> 28) & 0x0f)]! +
    hex[(seq >>> 20) & 0xff]! +
    '-' +
    hex[0x80 | ((seq >>> 14) & 0x3f)]! +
    hex[(seq >>> 6) & 0xff]! +
    '-' +
    hex[((seq << 2) & 0xff) | (pool[r + 10]! & 0x03)]! +
    hex[pool[r + 11]!]! +
    hex[pool[r + 12]!]! +
    hex[pool[r + 13]!]! +
    hex[pool[r + 14]!]! +
    hex[pool[r + 15]!]!
  );
}
