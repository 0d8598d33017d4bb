import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors';

/** Where `npm run build:console` writes the console (console/ → dist/console). */
export const consoleDir = path.resolve(__dirname, '../../dist/console');

/**
 * The console may load only its own files and call only its own origin: no inline script or style,
 * no other site, no framing. Its data all comes from admin-only API calls.
 */
export const consoleSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The operator console at /console/: its built files, served with the CSP above. The files hold no
 * data, so they are open; signing in means pasting an admin token, which the page keeps in session
 * storage and sends as a bearer header. Without a build, /console/ says how to make one.
 */
export async function registerConsole(app: FastifyInstance, root = consoleDir): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
      route.logLevel ??= 'warn';
      route.schema = { ...route.schema, hide: true };
    });
    // Replaces the policy every answer carries (which lets a JSON answer load nothing); the other security headers stay.
    scope.addHook('onRequest', (_request, reply, done) => {
      reply.header('content-security-policy', consoleSecurityPolicy);
      done();
    });
    scope.get('/console', async (_request, reply) => reply.redirect('/console/', 301));
    if (!existsSync(path.join(root, 'index.html'))) {
      scope.get('/console/*', (_request, reply) =>
        reply.status(503).send(new AppError('DEPENDENCY_UNAVAILABLE', 'The console is not built: run `npm run build:console` and restart').toBody()),
      );
      return;
    }
    await scope.register(fastifyStatic, {
      root,
      prefix: '/console/',
      decorateReply: false,
      // Hashed file names change with their content: keep them for good; index.html is checked each time.
      setHeaders: (reply, filePath) => {
        reply.header('cache-control', filePath.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
      },
    });
  });
}
