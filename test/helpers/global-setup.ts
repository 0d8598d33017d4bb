/** Runs once before all test files; services come from the environment (see test/helpers/services.ts). */
export default async function globalSetup(): Promise<void> {}
