#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly, as `npm start` does for the service.
require('tsx/cjs');
require('../src/cli/index.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
