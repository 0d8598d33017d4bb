/**
 * Tests against a RabbitMQ cluster started on this machine (test/helpers/rabbit-cluster.ts): slow
 * to start, so they run apart, one file at a time (`npm run test:cluster`; CI runs them too).
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/cluster'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
  maxWorkers: 1,
};
