import type { AmqpClient } from '../amqp/connection';
import type { Queryable } from '../db/client';
import type { Logger } from '../logger';
import { brokerUp, databaseUp } from '../metrics';

/** How long readiness waits for Postgres to answer `select 1` before it counts as down. */
const DATABASE_ANSWER_MS = 2000;

type Status = 'up' | 'down';

/** Whether a process can serve: both dependencies up. Only up or down: causes go to the log, never into the answer. */
export type Readiness = { status: Status; checks: { database: { status: Status }; broker: { status: Status } } };

/** Checks readiness; the same answer sets the `stockroom_database_up` and `stockroom_broker_up` gauges. */
export type ReadinessProbe = () => Promise<Readiness>;

async function databaseAnswers(pool: Queryable): Promise<{ up: true } | { up: false; cause: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_ANSWER_MS} ms`)), DATABASE_ANSWER_MS);
  });
  try {
    await Promise.race([pool.query('select 1'), late]);
    return { up: true };
  } catch (cause) {
    return { up: false, cause };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A readiness probe for one process: Postgres answers `select 1` (within two seconds) and the
 * broker connection is open (a process without one is never ready). A dependency going down or
 * coming back is logged once, with the driver's error, rather than on every probe.
 */
export function readinessProbe(deps: { pool: Queryable; amqp: AmqpClient | null; logger: Logger }): ReadinessProbe {
  const log = deps.logger.child({ component: 'readiness' });
  // unknown until the first probe, which logs nothing: at start the broker may still be connecting
  const last: Record<'database' | 'broker', boolean | null> = { database: null, broker: null };
  const note = (dependency: keyof typeof last, up: boolean, cause?: unknown) => {
    const before = last[dependency];
    last[dependency] = up;
    if (before === null || before === up) return;
    if (up) log.info({ dependency }, 'dependency answers again');
    else log.warn({ dependency, err: cause }, 'dependency is down; not ready');
  };
  return async () => {
    const database = await databaseAnswers(deps.pool);
    const broker = deps.amqp?.isConnected() ?? false;
    note('database', database.up, database.up ? undefined : database.cause);
    note('broker', broker, deps.amqp ? new Error('reconnecting to RabbitMQ') : new Error('no broker connection configured'));
    databaseUp.set(database.up ? 1 : 0);
    brokerUp.set(broker ? 1 : 0);
    const status = (up: boolean): Status => (up ? 'up' : 'down');
    return {
      status: status(database.up && broker),
      checks: { database: { status: status(database.up) }, broker: { status: status(broker) } },
    };
  };
}
