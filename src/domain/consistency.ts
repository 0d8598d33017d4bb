/**
 * Consistency findings (seed 004's monitoring): what the consistency check found wrong, one finding
 * per kind and subject while it lasts, and which kinds a fix call may repair by itself. Pure.
 */

/**
 * The kinds of inconsistency the check looks for:
 * - `overdue_hold`: a RESERVED reservation whose hold ended longer ago than the grace, not yet expired;
 * - `cancelled_order_hold`: a reservation still holding stock for an order an OrderCancelled event cancelled;
 * - `ledger_mismatch`: a lot whose quantities differ from the sum of its ledger movements;
 * - `stuck_job`: a published allocation job left unfinished and unchanged past the deadline;
 * - `long_hold`: a reservation held longer than the configured age (not wrong, worth a look);
 * - `unit_mismatch`: a serial-tracked lot whose units disagree with the reservation lines on it
 *   (unitDisagreements, src/domain/units.ts): units Reserved without a live hold, Sold without an
 *   allocation, or a live line whose units are not in the matching state.
 */
export const findingKinds = ['overdue_hold', 'cancelled_order_hold', 'ledger_mismatch', 'stuck_job', 'long_hold', 'unit_mismatch'] as const;
export type FindingKind = (typeof findingKinds)[number];

/** What a finding is about. */
export const findingSubjects = ['reservation', 'lot', 'allocation'] as const;
export type FindingSubject = (typeof findingSubjects)[number];

/** The subject type each kind is about. */
export const subjectOfKind: Readonly<Record<FindingKind, FindingSubject>> = Object.freeze({
  overdue_hold: 'reservation',
  cancelled_order_hold: 'reservation',
  ledger_mismatch: 'lot',
  stuck_job: 'allocation',
  long_hold: 'reservation',
  unit_mismatch: 'lot',
});

/** An inconsistency as the check sees it now. */
export type DetectedIssue = { kind: FindingKind; subjectType: FindingSubject; subjectId: string; detail: Record<string, unknown> };

/** A stored finding still open. */
export type OpenFinding = { id: string; kind: FindingKind; subjectType: FindingSubject; subjectId: string };

/** What one check writes: findings that first appear, open ones seen again (with their detail now), open ones gone. */
export type FindingChanges = {
  appeared: DetectedIssue[];
  seenAgain: { id: string; detail: Record<string, unknown> }[];
  resolved: string[];
};

/** The identity of a finding: one open finding per kind and subject. */
export function findingKey(finding: Pick<DetectedIssue, 'kind' | 'subjectType' | 'subjectId'>): string {
  return JSON.stringify([finding.kind, finding.subjectType, finding.subjectId]);
}

/**
 * Compares what a check detected with the findings still open. An issue seen twice in one check
 * counts once (its first detail kept); `scope`, when given, limits resolving to the open findings it
 * covers (a check of one order's subjects resolves nothing of another order).
 */
export function planFindingChanges(
  open: readonly OpenFinding[],
  detected: readonly DetectedIssue[],
  scope: (finding: OpenFinding) => boolean = () => true,
): FindingChanges {
  const openByKey = new Map(open.map((finding) => [findingKey(finding), finding]));
  const detectedByKey = new Map<string, DetectedIssue>();
  for (const issue of detected) if (!detectedByKey.has(findingKey(issue))) detectedByKey.set(findingKey(issue), issue);
  const changes: FindingChanges = { appeared: [], seenAgain: [], resolved: [] };
  for (const [key, issue] of detectedByKey) {
    const known = openByKey.get(key);
    if (known) changes.seenAgain.push({ id: known.id, detail: issue.detail });
    else changes.appeared.push(issue);
  }
  for (const [key, finding] of openByKey) if (!detectedByKey.has(key) && scope(finding)) changes.resolved.push(finding.id);
  return changes;
}

/** The repairs a fix call makes. */
export const remedyActions = ['expire', 'release', 'requeue', 'rederive'] as const;
export type RemedyAction = (typeof remedyActions)[number];

/** How a fix call repairs a kind: through which use case, or why it may not by itself. */
export type Remedy = { fixable: true; action: RemedyAction } | { fixable: false; why: string };

/**
 * The remedy of each kind: only repairs the normal use cases already make (expiry, release,
 * publishing a job again), and re-deriving a lot's unit states from its reservation lines
 * (rederiveUnits, src/domain/units.ts), which the lines and the lot's quantities both already say.
 */
export const remedyOf: Readonly<Record<FindingKind, Remedy>> = Object.freeze({
  overdue_hold: { fixable: true, action: 'expire' },
  cancelled_order_hold: { fixable: true, action: 'release' },
  stuck_job: { fixable: true, action: 'requeue' },
  unit_mismatch: { fixable: true, action: 'rederive' },
  ledger_mismatch: {
    fixable: false,
    why:
      'a lot that disagrees with its ledger is not rewritten automatically: which side is wrong needs a person; ' +
      'compare the lot with `stockroom reconcile` and its movements, then correct it with PUT /inventory/adjust',
  },
  long_hold: {
    fixable: false,
    why: 'a long hold may be wanted: release it (POST /inventory/release) or let it expire; the finding resolves once it is no longer held',
  },
});
