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
import { cpSync, existsSync, statSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinModules, createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

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
const pluginMains = pluginDirs.map((name) => join(dist, 'plugins', name, JSON.parse(readFileSync(join(dist, 'plugins', name, 'plugin.json'), 'utf8')).main));
for (const main of pluginMains) entries.add(main);
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
/** The snapshot has no import.meta: its URLs are absolute, fixed at build time like its code. */
const absoluteUrl = (p) => pathToFileURL(p).href + (p.endsWith('/') ? '/' : '');

function rewriteMetaUrl(snapshot) {
  const url = (p) => (snapshot ? `new URL(${JSON.stringify(absoluteUrl(p))})` : `new URL(${JSON.stringify(rootRelative(p))}, import.meta.url)`);
  return {
    name: 'berth-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(dist + sep)) return undefined;
        let code = readFileSync(args.path, 'utf8');
        if (!code.includes('import.meta.url')) return { contents: code, loader: 'js' };
        // One pass: a literal path's rewrite must not be rewritten again as a bare import.meta.url.
        const ownUrl = `${url(args.path)}.href`;
        code = code.replace(new RegExp(`${WORKER_URL.source}|import\\.meta\\.url`, 'g'), (whole, _q, lit) => {
          if (lit === undefined) return ownUrl;
          const target = resolve(dirname(args.path), lit) + (lit.endsWith('/') ? '/' : '');
          return url(bundled(target) ?? target);
        });
        return { contents: code, loader: 'js' };
      });
    },
  };
}

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
  plugins: [rewriteMetaUrl(false)],
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

// The start-up snapshot: the core and every built-in plugin as one CommonJS script, evaluated by
// node at build time (core/snapshot-main.ts registers the plugins' modules and the main function).
// Node's snapshot builder gives the script a require() for built-in modules only, so packages left
// outside the bundle (EXTERNAL) are required through createRequire once the snapshot runs.
const snapshotScript = join(out, 'snapshot.cjs');
// Built-in modules node's snapshot builder supports (node 20's mksnapshot.js list, those we use).
// Any other built-in (http, net, child_process, worker_threads...) is loaded when first used,
// after the snapshot was deserialized: the script gets a stand-in that knows the module's export
// names (taken here) and loads the module on the first read of one, failing the build if that
// read happens while the snapshot is being made.
const SNAPSHOT_SAFE = new Set(['assert', 'buffer', 'console', 'crypto', 'diagnostics_channel', 'dns', 'events', 'fs', 'fs/promises', 'os', 'path', 'process',
  'querystring', 'stream', 'stream/promises', 'string_decoder', 'timers', 'timers/promises', 'url', 'util', 'util/types', 'v8', 'zlib']);
function snapshotPrelude() {
  const nodeRequire = createRequire(import.meta.url);
  // (sys, punycode and wasi only warn when loaded: nothing of ours uses them.)
  const keys = Object.fromEntries(builtinModules.filter((m) => !/^_|^(sys|punycode|wasi)$/.test(m)).map((m) => [m, Object.getOwnPropertyNames(nodeRequire(m))]));
  return `const __berthBuiltinRequire = require;
const __berthBuiltinKeys = ${JSON.stringify(keys)};
const __berthSafe = new Set(${JSON.stringify([...SNAPSHOT_SAFE])});
const __berthLate = new Map();
let __berthBuilding = true;
let __berthPackageRequire;
const __berthRequire = (id) => {
  const name = id.replace(/^node:/, '');
  if (__berthSafe.has(name)) return __berthBuiltinRequire(id);
  // Modules make their require() with createRequire when they load: a stand-in that makes it on first call.
  if (name === 'module' && __berthBuilding) {
    const late = (base) => {
      let real;
      const get = () => (real ??= __berthBuiltinRequire('node:module').createRequire(base));
      const req = (what) => get()(what);
      req.resolve = Object.assign((what, o) => get().resolve(what, o), { paths: (what) => get().resolve.paths(what) });
      return req;
    };
    return { createRequire: late, isBuiltin: (m) => Object.hasOwn(__berthBuiltinKeys, m.replace(/^node:/, '')) };
  }
  if (__berthBuiltinKeys[name]) {
    if (!__berthLate.has(name)) {
      let real;
      const load = (key) => {
        // Read by packages when they load, and the same in the process the snapshot starts.
        if (__berthBuilding && name === 'worker_threads' && key === 'isMainThread') return { isMainThread: true };
        // pino's thread-stream takes the class when it loads and only ever constructs it.
        if (__berthBuilding && name === 'worker_threads' && key === 'Worker') {
          return { Worker: function Worker(...args) { return Reflect.construct(load('Worker').Worker, args); } };
        }
        if (__berthBuilding) throw new Error('start-up snapshot: built-in module ' + name + ' (' + String(key) + ') read while the snapshot is made; read it when used instead');
        return real ??= __berthBuiltinRequire(id);
      };
      __berthLate.set(name, new Proxy({}, {
        get: (_t, key) => (key === '__esModule' ? undefined : load(key)[key]),
        has: (_t, key) => __berthBuiltinKeys[name].includes(key),
        ownKeys: () => __berthBuiltinKeys[name],
        getOwnPropertyDescriptor: () => undefined,
      }));
    }
    return __berthLate.get(name);
  }
  if (__berthBuilding) throw new Error('start-up snapshot: package ' + id + ' required while the snapshot is made; require it when used instead');
  __berthPackageRequire ??= __berthBuiltinRequire('node:module').createRequire(${JSON.stringify(join(out, 'core/main.js'))});
  return __berthPackageRequire(id);
};
(function (require) {`;
}
const snapshotBlob = join(out, 'berthd.blob');
// The validators build-assets precompiled (dist/schemas/) come along, keyed as in its index.json,
// but not the large ones (the Engine API's container bodies, 60-170 KB each): every KB in the
// snapshot is deserialized at every start (measured: 1.8 MB less, 3-4 ms sooner to the first
// ping), and those are first needed after ready, when the API server warms them from disk.
const SNAPSHOT_VALIDATOR_MAX = 50 * 1024;
const validators = Object.entries(JSON.parse(readFileSync(join(dist, 'schemas/index.json'), 'utf8')))
  .filter(([, file]) => statSync(join(dist, 'schemas', file)).size <= SNAPSHOT_VALIDATOR_MAX);
const snapshotEntry = [
  `import { prepareSnapshot } from ${JSON.stringify(join(dist, 'core/snapshot-main.js'))};`,
  ...pluginMains.map((p, i) => `import * as plugin${i} from ${JSON.stringify(p)};`),
  ...validators.map(([, file], i) => `import validator${i} from ${JSON.stringify(join(dist, 'schemas', file))};`),
  `prepareSnapshot(`,
  `  new Map([${pluginMains.map((p, i) => `[${JSON.stringify(join(out, relative(dist, p)))}, plugin${i}]`).join(', ')}]),`,
  `  new Map([${validators.map(([key], i) => `[${JSON.stringify(key)}, validator${i}]`).join(', ')}]),`,
  `);`,
].join('\n');
// ajv's runtime helpers, which the validators require, are bundled; ajv itself stays outside.
const ajvOutside = {
  name: 'berth-ajv-outside',
  setup(b) {
    b.onResolve({ filter: /^(ajv|unix-dgram|node-unix-socket)$/ }, (args) => ({ path: args.path, external: true }));
  },
};
await build({
  stdin: { contents: snapshotEntry, resolveDir: dist, sourcefile: 'snapshot-entry.js', loader: 'js' },
  outfile: snapshotScript,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  banner: { js: snapshotPrelude() },
  footer: { js: '})(__berthRequire);\n__berthBuilding = false;' },
  plugins: [ajvOutside, rewriteMetaUrl(true)],
  // Every byte of the snapshot is deserialized at every start: without spaces and comments the
  // blob is 1.8 MB smaller and a start 5-6 ms sooner. Names stay, for stack traces.
  // BERTH_SNAPSHOT_READABLE=1 keeps it as written (to profile or instrument a start).
  minifyWhitespace: process.env.BERTH_SNAPSHOT_READABLE !== '1',
  minifySyntax: process.env.BERTH_SNAPSHOT_READABLE !== '1',
  logLevel: 'warning',
});
rmSync(snapshotBlob, { force: true });
rmSync(join(out, 'berthd.node'), { force: true });
const made = spawnSync(process.execPath, ['--snapshot-blob', snapshotBlob, '--build-snapshot', snapshotScript], { encoding: 'utf8', cwd: out });
if (made.status !== 0) {
  // The daemon still runs, from the bundle (bin/berthd), only slower to start; test/launcher fails.
  rmSync(snapshotBlob, { force: true });
  process.stderr.write(`bundle: WARNING: no start-up snapshot, bin/berthd will run the bundle; node's snapshot builder said:\n${made.stderr}${made.stdout}`);
} else {
  // Only the node that made it can load it: bin/berthd checks the node it finds is this one.
  writeFileSync(join(out, 'berthd.node'), `${process.execPath}\n`);
}
