// Build step after build-assets: bundles the daemon into dist/bundle/ with esbuild, so a start
// compiles a few large ESM files instead of ~150 small ones and pino/tapable's CommonJS trees
// (module resolution and loading were most of the time to the first /_ping). bin/berthd runs
// dist/bundle/core/main.js; the tests keep importing tsc's dist/ as before.
//
// Entry points, each at its dist/ path under dist/bundle/, code shared between them in chunks/:
// core/main.js, core/plugin-api.js, every built-in plugin's manifest `main` (plugins are still
// found by their plugin.json and loaded with import(), as third-party ones are), and every file
// the code starts by path as a worker or child process (`new URL('./x.js', import.meta.url)`).
//
// import.meta.url in a bundled module would be its chunk's URL, so it is rewritten per module:
// `new URL('<literal>', import.meta.url)` aimed at code the bundle holds (a worker, the plugins
// folder) points into dist/bundle/; everything else (data: schemas, build-info.json,
// package.json, createRequire's base) points where tsc's copy of that module would point.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const out = join(dist, 'bundle');
// Native and optional modules stay outside, loaded from node_modules as before.
const EXTERNAL = ['unix-dgram', 'node-unix-socket', 'ajv', 'ajv/*'];
// A placeholder for "the path from this output file to dist/bundle/", filled in per output file.
const ROOT_MARK = '__BERTH_BUNDLE_ROOT__/';
const WORKER_URL = /new URL\((['"])(\.\.?\/[^'"]*)\1, import\.meta\.url\)/g;

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return p === out || p === join(dist, 'test') ? [] : jsFiles(p);
    return e.name.endsWith('.js') ? [p] : [];
  });
}

const entries = new Set([join(dist, 'core/main.js'), join(dist, 'core/plugin-api.js')]);
const pluginDirs = readdirSync(join(dist, 'plugins')).filter((n) => existsSync(join(dist, 'plugins', n, 'plugin.json')));
for (const name of pluginDirs) {
  const manifest = JSON.parse(readFileSync(join(dist, 'plugins', name, 'plugin.json'), 'utf8'));
  entries.add(join(dist, 'plugins', name, manifest.main));
}
// Files started by path (workers, helper processes): found in the code, so new ones are picked up.
for (const file of jsFiles(dist)) {
  for (const m of readFileSync(file, 'utf8').matchAll(WORKER_URL)) {
    const target = resolve(dirname(file), m[2]);
    if (target.endsWith('.js') && existsSync(target)) entries.add(target);
  }
}

/** Where a path inside dist/ lives in the bundle, if the bundle holds it. */
function bundled(target) {
  const clean = target.replace(/[/\\]$/, '');
  if (entries.has(clean) || clean === join(dist, 'plugins')) return join(out, relative(dist, clean)) + (target.endsWith('/') ? '/' : '');
  return undefined;
}

/** A path as seen from dist/bundle/ (the mark becomes the way up from each output file). */
const rootRelative = (p) => ROOT_MARK + relative(out, p).split(sep).join('/') + (p.endsWith('/') ? '/' : '');

const rewriteMetaUrl = {
  name: 'berth-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(dist + sep)) return undefined;
      let code = readFileSync(args.path, 'utf8');
      if (!code.includes('import.meta.url')) return { contents: code, loader: 'js' };
      // One pass: a literal path's rewrite must not be rewritten again as a bare import.meta.url.
      const ownUrl = `new URL(${JSON.stringify(rootRelative(args.path))}, import.meta.url).href`;
      code = code.replace(new RegExp(`${WORKER_URL.source}|import\\.meta\\.url`, 'g'), (whole, _q, lit) => {
        if (lit === undefined) return ownUrl;
        const target = resolve(dirname(args.path), lit) + (lit.endsWith('/') ? '/' : '');
        return `new URL(${JSON.stringify(rootRelative(bundled(target) ?? target))}, import.meta.url)`;
      });
      return { contents: code, loader: 'js' };
    });
  },
};

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: [...entries],
  outbase: dist,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  chunkNames: 'chunks/[name]-[hash]',
  // Through tsc's maps to the TypeScript sources (node --enable-source-maps, debuggers).
  sourcemap: 'linked',
  // CommonJS dependencies bundled into ESM call require() for node's built-in modules.
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  plugins: [rewriteMetaUrl],
  write: false,
  logLevel: 'warning',
});
for (const f of result.outputFiles) {
  const up = relative(dirname(f.path), out).split(sep).join('/');
  mkdirSync(dirname(f.path), { recursive: true });
  writeFileSync(f.path, f.text.replaceAll(ROOT_MARK, up ? `${up}/` : './'));
}
// The built-in plugins are found by their manifests, as in dist/plugins/.
for (const name of pluginDirs) cpSync(join(dist, 'plugins', name, 'plugin.json'), join(out, 'plugins', name, 'plugin.json'));
