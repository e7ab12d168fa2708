// Build step after tsc: copy each plugin's manifest (plugin.json) next to its compiled entry,
// and record the commit the build came from.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
for (const name of readdirSync(join(root, 'plugins'))) {
  const manifest = join(root, 'plugins', name, 'plugin.json');
  if (!existsSync(manifest)) continue;
  mkdirSync(join(root, 'dist/plugins', name), { recursive: true });
  cpSync(manifest, join(root, 'dist/plugins', name, 'plugin.json'));
}
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch { /* not a git checkout */ }
writeFileSync(join(root, 'dist/build-info.json'), JSON.stringify({ commit, buildTime: new Date().toISOString() }) + '\n');
