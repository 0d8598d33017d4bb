/**
 * Which allocation partition serves a job. Pure. Jobs are spread over ALLOCATION_PARTITIONS queues
 * by a stable hash of a product, so every job of one product waits in one queue, served by one
 * consumer at a time: batches of different partitions touch different lots and run side by side.
 */

/** 32-bit FNV-1a of the UTF-8 bytes of a text: the same number in every process and release. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The product a job is partitioned by: its lowest product id (code-unit order). A job of several
 * products goes with its lowest one; it may then lock lots that another partition's batches lock
 * too, which lock_timeout bounds and a retry resolves.
 */
export function partitionProduct(productIds: readonly string[]): string {
  if (productIds.length === 0) throw new Error('a job names at least one product');
  return productIds.reduce((lowest, id) => (id < lowest ? id : lowest));
}

/** The partition (0 … partitions - 1) of a job naming these products. */
export function partitionOf(productIds: readonly string[], partitions: number): number {
  return partitions <= 1 ? 0 : stableHash(partitionProduct(productIds)) % partitions;
}
