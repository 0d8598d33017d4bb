/**
 * Postgres snapshots as `pg_current_snapshot()` writes them (`xmin:xmax:xip,…`), for telling whether a
 * committed transaction, named by `pg_current_xact_id()`, is among what a statement saw.
 */

/** Whether the writes of a committed transaction are in the snapshot: pg_visible_in_snapshot(xid, snapshot) in JavaScript. */
export function committedWithin(xid: string, snapshot: string): boolean {
  const [xmin, xmax, inProgress] = snapshot.split(':');
  const id = BigInt(xid);
  // every transaction below xmin had ended when the snapshot was taken; none from xmax on had started
  if (id < BigInt(xmin!)) return true;
  if (id >= BigInt(xmax!)) return false;
  return !(inProgress ?? '')
    .split(',')
    .filter((entry) => entry !== '')
    .some((entry) => BigInt(entry) === id);
}
