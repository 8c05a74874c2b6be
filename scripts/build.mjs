// Bundles the CLI so a start loads a handful of files instead of hundreds of
// modules (whole-process `detect` has a 250 ms budget). Subcommands and heavy
// dependencies stay lazy: each dynamic import becomes its own chunk.
import { build } from 'esbuild';
import { chmod, rm } from 'node:fs/promises';

await rm('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: { 'initrd-wizard': 'src/bin.ts', 'pool-worker': 'src/packages/pool-worker.ts' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: false,
  sourcemap: false,
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
  // Ink loads react-devtools-core only under DEV=true; React's production build is the one shipped.
  external: ['react-devtools-core'],
  define: { 'process.env.NODE_ENV': '"production"' },
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
await chmod('dist/bin/initrd-wizard.js', 0o755);
