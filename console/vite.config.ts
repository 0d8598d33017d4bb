// Builds the operator console into dist/console, served by the API process at /console/. Paths are
// relative to the project folder, where the npm scripts run.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'console',
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    // Every asset is a file of its own: the CSP allows no inline scripts or styles and no data: URLs.
    assetsInlineLimit: 0,
  },
});
