// File-system operations Node has no API for (mknod, xattrs), done by small host tools:
// coreutils mknod/mkfifo and setfattr/getfattr from Debian's `attr` package. Tools are found by
// absolute host path (never through a layer's PATH), and never follow a symlink (-h, mknod(2)).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { systemError } from '../../core/plugin-api.js';

const TOOL_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];
const PACKAGE: Record<string, string> = { mknod: 'coreutils', mkfifo: 'coreutils', setfattr: 'attr', getfattr: 'attr' };
const found = new Map<string, string>();

function tool(name: string): string {
  const known = found.get(name);
  if (known) return known;
  for (const dir of TOOL_DIRS) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      found.set(name, `${dir}/${name}`);
      return `${dir}/${name}`;
    } catch {
      // try the next folder
    }
  }
  throw systemError(`layer archive: ${name} not found in ${TOOL_DIRS.join(', ')} (install the Debian package ${PACKAGE[name]})`);
}

function run(name: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool(name), args, { stdio: ['pipe', 'pipe', 'pipe'], env: { LC_ALL: 'C' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e) => reject(systemError(`layer archive: ${name}: ${e.message}`, e)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('latin1'));
      else reject(systemError(`layer archive: ${name} ${args.slice(0, 4).join(' ')}: ${Buffer.concat(err).toString().trim() || `exit ${code}`}`));
    });
    child.stdin.on('error', () => {}); // the close handler reports the failure
    child.stdin.end(input ?? '', 'latin1');
  });
}

export async function makeDevice(path: string, type: 'c' | 'b', major: number, minor: number): Promise<void> {
  await run('mknod', ['-m', '0600', '--', path, type, String(major), String(minor)]);
}

export async function makeFifo(path: string): Promise<void> {
  await run('mkfifo', ['-m', '0600', '--', path]);
}

export interface XattrSetting {
  path: string;
  name: string;
  value: Buffer;
}

/** Byte-wise escaping of getfattr's dump format, as a latin1 string of UTF-8 bytes. */
function quote(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x3d ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

function unquote(text: string): string {
  const bytes = Buffer.from(text.replace(/\\([0-7]{3}|\\)/g, (_, code: string) =>
    code === '\\' ? '\\' : String.fromCharCode(parseInt(code, 8))), 'latin1');
  return bytes.toString('utf8');
}

/** Sets many xattrs with one setfattr run; never through a symlink. */
export async function setXattrs(settings: XattrSetting[]): Promise<void> {
  if (settings.length === 0) return;
  const dump = settings
    .map((s) => `# file: ${quote(s.path)}\n${quote(s.name)}=0s${s.value.toString('base64')}\n`)
    .join('\n');
  await run('setfattr', ['-h', '--restore=-'], `${dump}\n`);
}

/** Every xattr of each path (none listed for a path that has none); never through a symlink. */
export async function getXattrs(paths: string[]): Promise<Map<string, Map<string, Buffer>>> {
  const result = new Map<string, Map<string, Buffer>>();
  // Chunks keep each command line well under the kernel's argument limit.
  for (let i = 0; i < paths.length;) {
    const chunk: string[] = [];
    let bytes = 0;
    while (i < paths.length && (chunk.length === 0 || bytes + paths[i].length < 64 * 1024)) {
      bytes += paths[i].length + 1;
      chunk.push(paths[i++]);
    }
    const dump = await run('getfattr', ['-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', '--', ...chunk]);
    let current: Map<string, Buffer> | null = null;
    for (const line of dump.split('\n')) {
      if (line.startsWith('# file: ')) {
        current = new Map();
        result.set(unquote(line.slice('# file: '.length)), current);
      } else if (current && line.includes('=')) {
        const eq = line.indexOf('=');
        const value = line.slice(eq + 1);
        current.set(unquote(line.slice(0, eq)), value.startsWith('0s') ? Buffer.from(value.slice(2), 'base64') : Buffer.from(value.replace(/^"|"$/g, ''), 'latin1'));
      }
    }
  }
  return result;
}

/** Names an xattr may have to travel through the dump format. */
export function isPlainXattrName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[\0\n=]/.test(name);
}
