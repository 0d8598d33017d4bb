/**
 * Slow tests that run apart, one file at a time (`npm run test:cluster`; CI runs them too): those
 * against a RabbitMQ cluster started on this machine (test/helpers/rabbit-cluster.ts), and the fault
 * drills of test/drills (workers frozen, queues deleted, the sweeper down) against real processes.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/cluster', '<rootDir>/test/drills'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
  maxWorkers: 1,
};
