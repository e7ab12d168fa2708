// The xattrs of a whole tree in one getfattr run (Debian's `attr` package: Node has no xattr API).
import { systemError } from '../../core/plugin-api.js';
import { runCommand } from '../../lib/host-cmd.js';

// getfattr escapes bytes outside printable ASCII (and the backslash) as \ooo.
const unquote = (text: string) =>
  Buffer.from(text.replace(/\\([0-7]{3}|\\)/g, (_, c: string) => (c === '\\' ? '\\' : String.fromCharCode(parseInt(c, 8)))), 'latin1').toString('utf8');

/**
 * Every xattr in the tree under `root` (symlinks not followed), keyed by path inside the tree
 * ("/" for the root itself, "/etc/x" below it): one "name=value" line per xattr, sorted.
 * Paths without xattrs are absent.
 */
export async function treeXattrs(root: string, driver: string): Promise<Map<string, string>> {
  let dump: string;
  try {
    dump = await runCommand('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', '--', root]);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw systemError(`graphdriver.${driver}: reading xattrs under ${root}: ${missing ? 'getfattr not found (install the Debian package attr)' : (err as Error).message}`, err);
  }
  const result = new Map<string, string>();
  for (const block of dump.split('\n\n')) {
    const [head, ...attrs] = block.split('\n').filter(Boolean);
    if (!head?.startsWith('# file: ')) continue;
    const path = unquote(head.slice('# file: '.length)).slice(root.length) || '/';
    result.set(path, attrs.sort().join('\n'));
  }
  return result;
}
