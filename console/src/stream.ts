import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { apiUrl, authHeaders, errorOf } from './api';
import type { StreamEvent } from './types';

/** How the live stream stands, for the page to show. */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/**
 * Reads GET /api/v1/stream with fetch and a streaming body parser: the browser's EventSource cannot
 * send an Authorization header, and the token must stay out of URLs. Reconnects after a lost
 * connection with a growing delay (1 s up to 15 s); stops on a 401/403 or when `signal` aborts.
 */
export function followStream(onEvent: (event: StreamEvent) => void, onState: (state: StreamState, detail?: string) => void, signal: AbortSignal): void {
  let delayMs = 1000;
  const readOnce = async (): Promise<'retry' | 'stop'> => {
    const response = await fetch(apiUrl('/stream'), { headers: { ...authHeaders(), accept: 'text/event-stream' }, cache: 'no-store', signal });
    if (!response.ok || !response.body) {
      const error = await errorOf(response);
      onState('closed', error.message);
      return response.status === 401 || response.status === 403 ? 'stop' : 'retry';
    }
    onState('live');
    delayMs = 1000;
    const parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        if (message.event) onEvent({ type: message.event, data: JSON.parse(message.data) as unknown } as StreamEvent);
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'retry';
      parser.feed(value);
    }
  };
  const loop = async () => {
    onState('connecting');
    for (;;) {
      const outcome = await readOnce().catch(() => 'retry' as const);
      // A refused token was reported by readOnce; an abort means the console closed the stream itself.
      if (outcome === 'stop' || signal.aborted) return;
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 15_000);
    }
  };
  void loop();
}
