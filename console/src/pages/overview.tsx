import { TimeChart } from '../chart';
import { number, relative, shortId } from '../format';
import type { Live } from '../live';
import { href } from '../route';
import { Figure, PageHeading, Status } from '../ui';

const colors = { accepted: '#1f5fa8', succeeded: '#1d7a3a', failed: '#b3261e', p50: '#1f5fa8', p99: '#a35200' };
const priorityColors = { critical: '#b3261e', high: '#a35200', medium: '#1f5fa8', low: '#5b5b5b' } as const;

/** The live figures: job rates and latency, queue depth, dead letters, outbox, reservations, low stock. */
export function OverviewPage({ live }: { live: Live }) {
  const samples = live.samples;
  const latest = samples.at(-1);
  const times = samples.map((sample) => new Date(sample.at).getTime() / 1000);
  const series = <T,>(pick: (sample: (typeof samples)[number]) => T) => samples.map(pick);
  return (
    <>
      <PageHeading title="Overview">
        <p class="hint">
          {latest ? `Counted from the database every few seconds; rates over the last ${latest.windowSeconds} s.` : 'Waiting for the first sample…'}
        </p>
      </PageHeading>
      {latest && (
        <>
          <section aria-labelledby="jobs-heading">
            <h2 id="jobs-heading">Jobs</h2>
            <dl class="figures" data-testid="job-figures">
              <Figure label="Accepted /s" value={number(latest.jobs.acceptedPerSecond, 1)} />
              <Figure label="Succeeded /s" value={number(latest.jobs.succeededPerSecond, 1)} />
              <Figure label="Failed /s" value={number(latest.jobs.failedPerSecond, 1)} tone={latest.jobs.failedPerSecond > 0 ? 'warn' : undefined} />
              <Figure label="Accept → result p50" value={latest.jobs.latencyMs.p50 === null ? '–' : `${number(latest.jobs.latencyMs.p50)} ms`} />
              <Figure label="Accept → result p99" value={latest.jobs.latencyMs.p99 === null ? '–' : `${number(latest.jobs.latencyMs.p99)} ms`} />
            </dl>
            <div class="charts">
              <TimeChart
                title="Jobs per second"
                unit=""
                times={times}
                lines={[
                  { label: 'accepted', color: colors.accepted, values: series((sample) => sample.jobs.acceptedPerSecond) },
                  { label: 'succeeded', color: colors.succeeded, values: series((sample) => sample.jobs.succeededPerSecond) },
                  { label: 'failed', color: colors.failed, values: series((sample) => sample.jobs.failedPerSecond) },
                ]}
              />
              <TimeChart
                title="Accept → result (ms)"
                unit=""
                times={times}
                lines={[
                  { label: 'p50', color: colors.p50, values: series((sample) => sample.jobs.latencyMs.p50) },
                  { label: 'p99', color: colors.p99, values: series((sample) => sample.jobs.latencyMs.p99) },
                ]}
              />
              <TimeChart
                title="Queued jobs by priority"
                unit=""
                times={times}
                lines={(['critical', 'high', 'medium', 'low'] as const).map((priority) => ({
                  label: priority,
                  color: priorityColors[priority],
                  values: series((sample) => sample.queueDepth[priority]),
                }))}
              />
            </div>
          </section>
          <section aria-labelledby="health-heading">
            <h2 id="health-heading">Queues and stock</h2>
            <dl class="figures" data-testid="health-figures">
              <Figure
                label="Queued jobs"
                value={number(Object.values(latest.queueDepth).reduce((sum, count) => sum + count, 0))}
                note={`critical ${latest.queueDepth.critical} · high ${latest.queueDepth.high} · medium ${latest.queueDepth.medium} · low ${latest.queueDepth.low}`}
              />
              <Figure label="Open dead letters" value={number(latest.deadLetters.open)} tone={latest.deadLetters.open > 0 ? 'bad' : undefined} />
              <Figure
                label="Outbox lag"
                value={`${number(latest.outbox.lagSeconds, 1)} s`}
                note={`${number(latest.outbox.pending)} events waiting`}
                tone={latest.outbox.lagSeconds > 30 ? 'warn' : undefined}
              />
              <Figure
                label="Low stock"
                value={number(latest.lowStock.critical + latest.lowStock.low)}
                note={`${latest.lowStock.critical} critical · ${latest.lowStock.low} low`}
                tone={latest.lowStock.critical > 0 ? 'bad' : undefined}
              />
            </dl>
            <h3>Reservations by status</h3>
            <dl class="figures compact" data-testid="reservation-figures">
              {Object.entries(latest.reservations).map(([status, count]) => (
                <Figure key={status} label={status} value={number(count)} />
              ))}
            </dl>
          </section>
        </>
      )}
      <section aria-labelledby="activity-heading">
        <h2 id="activity-heading">Recent jobs</h2>
        {live.jobs.length === 0 ? (
          <p class="hint">No job was accepted or finished since this page opened.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Jobs accepted or finished recently, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Reference</th>
                  <th scope="col">Priority</th>
                  <th scope="col">Status</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {live.jobs.slice(0, 10).map((job) => (
                  <tr key={`${job.allocationId}-${job.status}`}>
                    <td>
                      <a href={href('jobs', job.allocationId)} title={job.allocationId}>
                        {shortId(job.allocationId)}
                      </a>
                    </td>
                    <td>{job.referenceId}</td>
                    <td>{job.priority}</td>
                    <td>
                      <Status value={job.status} />
                    </td>
                    <td>{relative(job.at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
