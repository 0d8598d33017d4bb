/**
 * The naive baseline: what seed 001 and Saleor do, one database transaction per request. For each
 * line in product order it locks the product's lots with SELECT … FOR UPDATE, takes FIFO, updates
 * the lots and writes their ledger rows; then it writes the request and its result row and commits.
 * Same schema, same lot store and planner as Stockroom, so the only difference measured is the
 * shape of the work: one request per transaction, answered synchronously.
 *
 * Runs as `node --import tsx bench/baseline.ts` with DATABASE_URL, PORT, JWT_SECRET; forks
 * BASELINE_PROCESSES http processes (default 2, one per core) sharing the port.
 */
import cluster from 'node:cluster';
import Fastify from 'fastify';
import { createTokenVerifier, loadTokenKeys } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { createPool, withTransaction } from '../src/db/client';
import { commitWrites } from '../src/db/writes';
import { isRetryableTransactionError, translatePgError } from '../src/db/pg-errors';
import { AppError } from '../src/errors';
import { plan } from '../src/domain/allocate';
import { available } from '../src/domain/quantities';
import type { LotTake } from '../src/domain/allocate';
import { insertAllocationRequest, insertAllocationResult, lockLotsOfLine, newJobId } from './bench-store';
import type { JobLine } from './workloads';

type Body = { items: JobLine[]; referenceId: string; referenceType: string };

class Shortage extends Error {}

async function serve(): Promise<void> {
  const config = loadConfig();
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE, undefined, 'stockroom-bench-baseline');
  const verify = createTokenVerifier(loadTokenKeys(config), config);
  const app = Fastify({ logger: false });
  app.setErrorHandler((error, _request, reply) => {
    const translated = translatePgError(error);
    const appError = translated instanceof AppError ? translated : new AppError('INTERNAL', error instanceof Error ? error.message : String(error));
    if (appError.status >= 500) process.stderr.write(`baseline: ${appError.code}: ${error instanceof Error ? error.message : String(error)}\n`);
    return reply.status(appError.status).send(appError.toBody());
  });

  app.get('/health/ready', async () => {
    await pool.query('select 1');
    return { status: 'up' };
  });

  app.post<{ Body: Body }>('/api/v1/allocations', async (request, reply) => {
    const token = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return reply.status(401).send({ error: { code: 'UNAUTHORIZED', message: 'no token' } });
    const caller = verify(token);
    const body = request.body;
    const started = Date.now();
    const allocationId = newJobId();
    const idempotencyKey = String(request.headers['idempotency-key'] ?? allocationId);
    for (let attempt = 1; ; attempt++) {
      let takes;
      try {
        takes = await withTransaction(pool, async (tx) => {
          const all: LotTake[] = [];
          const lines = [...body.items].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
          for (const line of lines) {
            const lots = await lockLotsOfLine(tx, line.productId, line.warehouseId);
            const candidates = lots.map((lot) => ({ ...lot, available: available(lot) }));
            const linePlan = plan({ lines: [line], strategy: 'fifo', priority: 'medium', allowPartial: false }, candidates, new Date());
            if (linePlan.outcome !== 'complete') throw new Shortage();
            await commitWrites(tx, {
              movements: linePlan.takes.map((take) => ({
                lotId: take.lotId,
                type: 'ALLOCATE' as const,
                allocatedDelta: take.quantity,
                referenceType: 'allocation',
                referenceId: allocationId,
                actor: caller.sub,
              })),
            });
            all.push(...linePlan.takes);
          }
          const result = {
            allocationId,
            status: 'succeeded',
            allocatedItems: all.map(({ productId, warehouseId, lotId, lotNumber, quantity }) => ({ productId, warehouseId, lotId, lotNumber, quantity })),
            failedItems: [],
            totalAllocated: all.reduce((sum, take) => sum + take.quantity, 0),
          };
          await insertAllocationRequest(tx, {
            id: allocationId,
            idempotencyKey,
            referenceId: body.referenceId,
            referenceType: body.referenceType,
            body,
            actor: caller.sub,
            status: 'succeeded',
          });
          await insertAllocationResult(tx, { allocationId, status: 'succeeded', body: result, executionTimeMs: Date.now() - started });
          return result;
        });
      } catch (error) {
        if (error instanceof Shortage) return reply.status(409).send({ error: { code: 'INSUFFICIENT_STOCK', message: 'not enough stock' } });
        if (isRetryableTransactionError(error) && attempt < 5) continue;
        throw error;
      }
      return reply.status(200).send(takes);
    }
  });

  await app.listen({ host: '127.0.0.1', port: config.PORT });
  const stop = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

if (cluster.isPrimary) {
  const count = Number(process.env.BASELINE_PROCESSES ?? 2);
  for (let i = 0; i < count; i++) cluster.fork();
  const stopAll = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
  };
  process.once('SIGTERM', stopAll);
  process.once('SIGINT', stopAll);
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
} else {
  serve().catch((error: unknown) => {
    process.stderr.write(`baseline failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
