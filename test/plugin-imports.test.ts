// Plugins meet only through contracts: every import in plugins/ and lib/ is checked against the
// rules (test/helpers/import-rules.ts), on this tree and on a made-up tree that breaks each rule.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { makeTempDir, REPO } from './helpers/daemon.js';
import { importsOf, importViolations } from './helpers/import-rules.js';

test('no plugin imports another plugin outside its index or without requiring its service; the core only through plugin-api', () => {
  const found = importViolations(REPO);
  assert.deepEqual(found, [], found.map((v) => `${v.file}: '${v.specifier}': ${v.reason}`).join('\n'));
});

test('the import reader sees static, type-only, side-effect, re-export and dynamic imports', () => {
  const src = [
    "import { a } from './a.js';",
    "import type { B } from '../b/index.js';",
    "import './side.js';",
    "export { c } from './c.js';",
    'const d = await import(\'./d.js\');',
    "import {\n  e,\n  f,\n} from './e.js';",
  ].join('\n');
  assert.deepEqual(importsOf(src), ['./a.js', '../b/index.js', './side.js', './c.js', './d.js', './e.js']);
});

test('each rule names the file and the import that breaks it', () => {
  const root = makeTempDir('berth-imports-');
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  try {
    write('package.json', JSON.stringify({ dependencies: { tapable: '^2' } }));
    write('plugins/store/plugin.json', JSON.stringify({ name: 'store', version: '1.0.0', provides: { things: '1.0.0' } }));
    write('plugins/store/index.ts', "export const x = 1;\n");
    write('plugins/store/inner.ts', "export const y = 2;\n");
    write('plugins/user/plugin.json', JSON.stringify({ name: 'user', version: '1.0.0', requires: { things: '^1' } }));
    write('plugins/stranger/plugin.json', JSON.stringify({ name: 'stranger', version: '1.0.0', requires: ['other'] }));
    write('plugins/user/index.ts', [
      "import { x } from '../store/index.js';", // allowed: requires things, which store provides
      "import { y } from '../store/inner.js';", // not through the index
      "import { z } from '../../core/schema.js';", // core outside plugin-api
      "import { definePlugin } from '../../core/plugin-api.js';", // allowed
      "import { tar } from '../../lib/archive/index.js';", // allowed
      "import { Hook } from 'tapable';", // a dependency
      "import express from 'express';", // not a dependency
      "import { readFile } from 'node:fs/promises';",
    ].join('\n'));
    write('plugins/stranger/index.ts', "import { x } from '../store/index.js';\n");
    write('lib/tool.ts', "import { x } from '../plugins/store/index.js';\n");
    const found = importViolations(root).map((v) => `${v.file} ${v.specifier}`).sort();
    assert.deepEqual(found, [
      'lib/tool.ts ../plugins/store/index.js',
      'plugins/stranger/index.ts ../store/index.js',
      'plugins/user/index.ts ../../core/schema.js',
      'plugins/user/index.ts ../store/inner.js',
      'plugins/user/index.ts express',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
