import type { Pool } from 'pg';
import type { AmqpClient } from '../amqp/connection';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** What every background runner gets from the process that hosts it. */
export type WorkerDeps = { config: Config; pool: Pool; logger: Logger; amqp: AmqpClient };

/** A started background runner; stop() finishes in-flight work before it resolves. */
export type Runner = { name: string; stop(): Promise<void> };

/**
 * A runner that runs `round` at once, then again `intervalMs` after each round ends; `round`
 * handles its own errors. stop() waits for a round in progress.
 */
export function startPeriodic(name: string, intervalMs: number, round: () => Promise<void>): Runner {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const run = async () => {
    await round();
    if (!stopped) timer = setTimeout(() => void (running = run()), intervalMs);
  };
  running = run();
  return {
    name,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
