// Which folders of a diff dir are opaque (trusted.overlay.opaque=y: they hide their parents'
// content), read for the whole tree with one getfattr run (Debian's `attr` package).
import { systemError } from '../../core/plugin-api.js';
import { runCommand } from '../../lib/host-cmd.js';

const OPAQUE_XATTR = 'trusted.overlay.opaque';

// getfattr escapes bytes outside printable ASCII (and the backslash) as \ooo.
const unquote = (text: string) =>
  Buffer.from(text.replace(/\\([0-7]{3}|\\)/g, (_, c: string) => (c === '\\' ? '\\' : String.fromCharCode(parseInt(c, 8)))), 'latin1').toString('utf8');

/** Paths inside `root` ("/" for root itself, "/a/b" below) of its opaque folders. */
export async function opaqueDirs(root: string): Promise<Set<string>> {
  let dump: string;
  try {
    dump = await runCommand('getfattr', ['-R', '-P', '-h', '-d', '-m', `^${OPAQUE_XATTR.replaceAll('.', '\\.')}$`, '-e', 'text', '--absolute-names', '--', root]);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw systemError(`graphdriver.overlay: reading opaque folders under ${root}: ${missing ? 'getfattr not found (install the Debian package attr)' : (err as Error).message}`, err);
  }
  const result = new Set<string>();
  let path: string | null = null;
  for (const line of dump.split('\n')) {
    if (line.startsWith('# file: ')) path = unquote(line.slice('# file: '.length)).slice(root.length) || '/';
    else if (path && line === `${OPAQUE_XATTR}="y"`) result.add(path);
  }
  return result;
}
