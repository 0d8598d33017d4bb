/** The roles a token can carry: service for order and checkout callers, admin for everything. */
export const roles = ['service', 'admin'] as const;
export type Role = (typeof roles)[number];
