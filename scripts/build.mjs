// Bundles the CLI so a start loads a handful of files instead of hundreds of
// modules (whole-process `detect` has a 250 ms budget). Subcommands and heavy
// dependencies stay lazy: each dynamic import becomes its own chunk.
import { build } from 'esbuild';
import { chmod, rm } from 'node:fs/promises';

/**
 * commander requires child_process at load for executable subcommands, which
 * this CLI does not have: loading it (with net, dgram, streams) was ~10 ms of
 * every start. Commander gets a stand-in that loads it on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (/node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let real; module.exports = new Proxy({}, { get: (_t, key) => (real ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

await rm('dist/bin', { recursive: true, force: true });
await build({
  // Worker threads' scripts are entry points of their own, named as src/workers.ts finds them.
  entryPoints: { 'initrd-wizard': 'src/bin.ts', 'pool-worker': 'src/packages/pool-worker.ts', 'fleet-worker': 'src/service/fleet-worker.ts' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: false,
  sourcemap: false,
  logLevel: 'warning',
  plugins: [lazyChildProcess],
  chunkNames: 'chunks/[name]-[hash]',
  // Ink loads react-devtools-core only under DEV=true; React's production build is the one shipped.
  external: ['react-devtools-core'],
  define: { 'process.env.NODE_ENV': '"production"' },
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
await chmod('dist/bin/initrd-wizard.js', 0o755);
