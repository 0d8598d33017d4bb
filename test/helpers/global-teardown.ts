/** Stops the containers global-setup started, if it started any. */
export default async function globalTeardown(): Promise<void> {
  const containers = (globalThis as { __stockroomContainers?: { stop(): Promise<unknown> }[] }).__stockroomContainers ?? [];
  await Promise.all(containers.map((container) => container.stop()));
}
