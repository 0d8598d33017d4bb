/**
 * The modules only some commands need, loaded on first use: zod, fast-jwt, uuid, pg and drizzle
 * take most of a second to load, which `--version`, `--help` and every command that needs none of
 * them would pay for nothing (test/integration/cli.test.ts checks what those load). require(), not
 * import(): the command context hands out its config and tokens synchronously.
 */
export const configModule = () => require('../config') as typeof import('../config');
export const tokensModule = () => require('../auth/tokens') as typeof import('../auth/tokens');
export const allocationSchemas = () => require('../schemas/allocations') as typeof import('../schemas/allocations');
export const uuidModule = () => require('uuid') as typeof import('uuid');
export const databaseModules = () => ({
  client: require('../db/client') as typeof import('../db/client'),
  lots: require('../db/lot-store') as typeof import('../db/lot-store'),
  units: require('../db/unit-store') as typeof import('../db/unit-store'),
  errors: require('../db/pg-errors') as typeof import('../db/pg-errors'),
});
