#!/usr/bin/env node
// The CLI runs the compiled JavaScript in dist/ (`npm run build`; npm install builds it too).
let cli;
try {
  cli = require('../dist/cli/index.js');
} catch (error) {
  if (error.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/index.js')) throw error;
  process.stderr.write('stockroom is not built yet: run `npm run build` in its folder first\n');
  process.exit(2);
}
cli.main(process.argv).then((code) => {
  process.exitCode = code;
});
