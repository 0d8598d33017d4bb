import type { FindingRow } from '../../db/consistency-store';
import { findingKinds } from '../../domain/consistency';
import type { Finding, OpenByKind } from '../../schemas/consistency';

/** A stored finding as the API shows it. */
export function findingView(row: FindingRow): Finding {
  return { ...row, open: row.resolvedAt === null };
}

/** Counts by kind with every kind present (0 for a kind with none). */
export function openByKindOf(counts: readonly { kind: string; count: number }[]): OpenByKind {
  const byKind = Object.fromEntries(findingKinds.map((kind) => [kind, 0])) as OpenByKind;
  for (const { kind, count } of counts) if (kind in byKind) byKind[kind as keyof OpenByKind] = count;
  return byKind;
}
