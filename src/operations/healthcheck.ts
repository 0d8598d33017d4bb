import { loadConfig } from '../config';

/**
 * The image's HEALTHCHECK (`node dist/operations/healthcheck.js`): exits 0 when the process of
 * this container is ready. An api or all-in-one process answers on PORT, a worker-only one on its
 * admin port (ADMIN_PORT); the first that listens is asked for /health/ready.
 */
async function main(): Promise<number> {
  const config = loadConfig();
  const local = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const candidates = [
    { host: local(config.HOST), port: config.PORT },
    { host: local(config.ADMIN_HOST), port: config.ADMIN_PORT },
  ].filter((candidate) => candidate.port > 0);
  for (const { host, port } of candidates) {
    try {
      const response = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/health/ready`, { signal: AbortSignal.timeout(4000) });
      process.stdout.write(`${port}: ${response.status} ${await response.text()}\n`);
      return response.ok ? 0 : 1;
    } catch (error) {
      // nothing listens on this port: the process has the other role
      process.stdout.write(`${port}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}\n`);
    }
  }
  return 1;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
