import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { reconcileCheckedAt, reconcileDifferences, registry, stateRegistry } from '../../src/metrics';

const root = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

type Rule = { alert: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const rules = (parse(read('deploy/prometheus/alerts.yml')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);

type Panel = { title: string; type: string; targets?: { expr: string }[] };
const dashboard = JSON.parse(read('deploy/grafana/stockroom.json')) as { panels: Panel[] };
const dashboardExprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

/** Every series name Stockroom's processes serve, histograms with their _bucket, _sum and _count. */
function exportedSeries(): Set<string> {
  const metrics = [...registry.getMetricsAsArray(), ...stateRegistry.getMetricsAsArray(), reconcileDifferences, reconcileCheckedAt];
  const names = new Set<string>();
  for (const metric of metrics) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

/** The metric names an expression reads: Stockroom's and Node's, and Prometheus's own `up`. */
function namesIn(expr: string): string[] {
  const names = [...expr.matchAll(/\b(?:stockroom|process|nodejs)_[a-z0-9_]+/g)].map((match) => match[0]);
  if (/\bup\{/.test(expr)) names.push('up');
  return names;
}

describe('alert rules and dashboard', () => {
  const exported = exportedSeries();
  exported.add('up');

  it('read only metrics the service exports', () => {
    const exprs = [...rules.map((rule) => ({ panel: rule.alert, expr: rule.expr })), ...dashboardExprs];
    expect(exprs.length).toBeGreaterThan(40);
    const unknown = exprs.flatMap(({ panel, expr }) => {
      const names = namesIn(expr);
      return names.length === 0 ? [`${panel}: names no metric`] : names.filter((name) => !exported.has(name)).map((name) => `${panel}: ${name}`);
    });
    expect(unknown).toEqual([]);
  });

  it('cover what an operator must hear about', () => {
    const read = new Set(rules.flatMap((rule) => namesIn(rule.expr)));
    for (const name of [
      'stockroom_http_requests_total',
      'stockroom_allocation_accept_to_result_seconds_bucket',
      'stockroom_queue_depth',
      'stockroom_allocation_oldest_queued_age_seconds',
      'stockroom_dead_letters_open',
      'stockroom_outbox_oldest_pending_age_seconds',
      'stockroom_oversold_lots',
      'stockroom_reconcile_differing_lots',
      'stockroom_reservations_overdue',
      'stockroom_low_stock_items',
      'stockroom_database_up',
      'stockroom_broker_up',
    ]) {
      expect({ name, alerted: read.has(name) }).toEqual({ name, alerted: true });
    }
  });

  it('give every alert a severity, a summary and a runbook section that exists in docs/operations.md', () => {
    const anchors = new Set(
      read('docs/operations.md')
        .split('\n')
        .filter((line) => line.startsWith('#'))
        .map((line) =>
          line
            .replace(/^#+\s*/, '')
            .toLowerCase()
            .replace(/[^a-z0-9 -]/g, '')
            .replace(/ /g, '-'),
        ),
    );
    for (const rule of rules) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({ alert: rule.alert, severity: expect.stringMatching(/^(critical|warning)$/) });
      expect(rule.annotations?.summary).toBeTruthy();
      const runbook = rule.annotations?.runbook ?? '';
      expect(runbook).toBe(`docs/operations.md#${rule.alert.toLowerCase()}`);
      expect({ alert: rule.alert, documented: anchors.has(rule.alert.toLowerCase()) }).toEqual({ alert: rule.alert, documented: true });
    }
  });
});
