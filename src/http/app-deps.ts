/** What the HTTP layer is built from: the process's dependencies, route access levels and the route module shape. */
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { AmqpClient } from '../amqp/connection';
import type { Caller, TokenKeys } from '../auth/tokens';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** Who may call a route: anyone, any authenticated caller (service or admin), or admins only. */
export type Access = 'public' | 'service' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** Served only on the admin port (ADMIN_PORT); the public port answers 404. */
    adminPort?: boolean;
  }
  interface FastifyRequest {
    /** Set by the auth hook on every route but public ones (where it stays null). */
    caller: Caller;
  }
  interface FastifyInstance {
    /** Every route the app serves (HEAD routes aside), with who may call it. */
    routeList: readonly RouteSummary[];
  }
}

/** One registered route: method, URL pattern and access. */
export type RouteSummary = { method: string; url: string; access: Access };

/** What the HTTP layer needs from the process that runs it. */
export type AppDeps = {
  config: Config;
  pool: Pool;
  logger: Logger;
  amqp: AmqpClient | null;
  /** The keys bearer tokens are verified with, read at start (loadTokenKeys). */
  tokenKeys: TokenKeys;
};

/** The route registrar every file in routes/ exports; it calls `app.withTypeProvider<ZodTypeProvider>()` for typed schemas. */
export type RouteModule = (app: FastifyInstance, deps: AppDeps) => Promise<void> | void;
