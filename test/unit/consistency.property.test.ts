import fc from 'fast-check';
import { findingKey, findingKinds, planFindingChanges, remedyOf, subjectOfKind, type DetectedIssue, type OpenFinding } from '../../src/domain/consistency';

const kindArb = fc.constantFrom(...findingKinds);
const subjectIdArb = fc.constantFrom('a', 'b', 'c', 'd');
const issueArb: fc.Arbitrary<DetectedIssue> = fc
  .record({ kind: kindArb, subjectId: subjectIdArb, seen: fc.nat({ max: 3 }) })
  .map(({ kind, subjectId, seen }) => ({ kind, subjectType: subjectOfKind[kind], subjectId, detail: { seen } }));
const openArb: fc.Arbitrary<OpenFinding[]> = fc
  .uniqueArray(fc.record({ kind: kindArb, subjectId: subjectIdArb }), { selector: (finding) => `${finding.kind}/${finding.subjectId}` })
  .map((findings) =>
    findings.map((finding, index) => ({ id: `f-${index}`, kind: finding.kind, subjectType: subjectOfKind[finding.kind], subjectId: finding.subjectId })),
  );

describe('planFindingChanges', () => {
  it('stores a new issue, updates one seen again with its detail now, and resolves an open one no longer found', () => {
    const open: OpenFinding[] = [
      { id: 'f-1', kind: 'overdue_hold', subjectType: 'reservation', subjectId: 'r-1' },
      { id: 'f-2', kind: 'stuck_job', subjectType: 'allocation', subjectId: 'j-1' },
    ];
    const detected: DetectedIssue[] = [
      { kind: 'overdue_hold', subjectType: 'reservation', subjectId: 'r-1', detail: { n: 2 } },
      { kind: 'long_hold', subjectType: 'reservation', subjectId: 'r-1', detail: {} },
    ];
    expect(planFindingChanges(open, detected)).toEqual({
      appeared: [detected[1]],
      seenAgain: [{ id: 'f-1', detail: { n: 2 } }],
      resolved: ['f-2'],
    });
  });

  it('resolves only the open findings a scoped check covers', () => {
    const open: OpenFinding[] = [{ id: 'f-1', kind: 'overdue_hold', subjectType: 'reservation', subjectId: 'r-1' }];
    expect(planFindingChanges(open, [], (finding) => finding.subjectId === 'r-2').resolved).toEqual([]);
  });

  it('accounts for every open finding and every distinct issue exactly once', () => {
    fc.assert(
      fc.property(openArb, fc.array(issueArb, { maxLength: 20 }), (open, detected) => {
        const { appeared, seenAgain, resolved } = planFindingChanges(open, detected);
        const detectedKeys = new Set(detected.map(findingKey));
        const openKeys = new Set(open.map(findingKey));
        // each open finding is either seen again or resolved, never both
        expect([...seenAgain.map((seen) => seen.id), ...resolved].sort()).toEqual(open.map((finding) => finding.id).sort());
        // each distinct issue is either known (seen again) or new (appeared), once
        expect(appeared.length + seenAgain.length).toBe(detectedKeys.size);
        expect(new Set(appeared.map(findingKey)).size).toBe(appeared.length);
        for (const issue of appeared) expect(openKeys.has(findingKey(issue))).toBe(false);
        for (const id of resolved) expect(detectedKeys.has(findingKey(open.find((finding) => finding.id === id)!))).toBe(false);
      }),
    );
  });
});

describe('remedyOf', () => {
  it('repairs holds, jobs and units through their use cases and says why for a ledger difference or a long hold', () => {
    expect(Object.fromEntries(findingKinds.map((kind) => [kind, remedyOf[kind].fixable]))).toEqual({
      overdue_hold: true,
      cancelled_order_hold: true,
      stuck_job: true,
      ledger_mismatch: false,
      long_hold: false,
      unit_mismatch: true,
    });
  });
});
