import type { Pool } from 'pg';
import type { AmqpClient } from '../amqp/connection';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** What every background runner gets from the process that hosts it. */
export type WorkerDeps = { config: Config; pool: Pool; logger: Logger; amqp: AmqpClient };

/** A started background runner; stop() finishes in-flight work before it resolves. */
export type Runner = { name: string; stop(): Promise<void> };
