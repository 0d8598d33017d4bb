import { useEffect, useState } from 'preact/hooks';
import { followStream, type StreamState } from './stream';
import type { DeadLetterChange, JobChange, MetricsSnapshot } from './types';

/** Samples kept for the charts: at one every 2 s, the last 3 minutes. */
const keptSamples = 90;
/** Changes kept for the activity lists. */
const keptChanges = 50;

/** What the live stream brought so far: recent samples (oldest first) and changes (newest first). */
export type Live = { state: StreamState; detail: string | undefined; samples: MetricsSnapshot[]; jobs: JobChange[]; deadLetters: DeadLetterChange[] };

/** Follows GET /api/v1/stream while the console is signed in. */
export function useLive(): Live {
  const [live, setLive] = useState<Live>({ state: 'connecting', detail: undefined, samples: [], jobs: [], deadLetters: [] });
  useEffect(() => {
    const abort = new AbortController();
    followStream(
      (event) =>
        setLive((current) => {
          switch (event.type) {
            case 'metrics':
              return { ...current, samples: [...current.samples, event.data].slice(-keptSamples) };
            case 'job':
              return { ...current, jobs: [event.data, ...current.jobs].slice(0, keptChanges) };
            case 'dead-letter':
              return { ...current, deadLetters: [event.data, ...current.deadLetters].slice(0, keptChanges) };
          }
        }),
      (state, detail) => setLive((current) => ({ ...current, state, detail })),
      abort.signal,
    );
    return () => abort.abort();
  }, []);
  return live;
}
