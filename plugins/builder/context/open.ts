// Receiving a build context as dockerd does (daemon/builder/remotecontext/detect.go): the request
// body (a tar, plain or gzip/bzip2/xz, recognised by its bytes) or `remote=` (a git repository, a
// tarball URL or a plain Dockerfile URL), extracted under a folder the caller chose; then the
// Dockerfile located and .dockerignore applied.
import { lstat, mkdir, mkdtemp, readFile, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform, pipeline } from 'node:stream';
import { BerthError, invalid } from '../../../core/plugin-api.js';
import { decompressedArchive, extractLayer, peekStream } from '../../../lib/archive/index.js';
import { readFileInRoot, resolveParts } from '../../../lib/scoped-path.js';
import { ContentHasher } from './content-hash.js';
import { PatternMatcher, cleanRel, readIgnoreFile } from './dockerignore.js';
import { IndexHasher, indexTar, removeEntry, type IndexedEntry } from './tar-index.js';
import { download, gitClone, isGitURL, isURL, readLimited } from './remote.js';

export const DEFAULT_DOCKERFILE = 'Dockerfile';
export type { IndexedEntry } from './tar-index.js';

export interface OpenContextOptions {
  /** A folder the caller owns; the context is made in a new folder under it. */
  tmpDir: string;
  /** The request body: a tar, plain or compressed (ignored when `remote` is given). */
  body?: Readable;
  /** The `remote` query parameter: a git repository, or the URL of a tarball or a Dockerfile. */
  remote?: string;
  /** The `dockerfile` query parameter (default "Dockerfile"), a path inside the context. */
  dockerfile?: string;
  /** Ends downloads and git fetches (a client that went away). */
  signal?: AbortSignal;
  /** Bound on each download's or git command's time without progress (default 10 minutes). */
  timeoutMs?: number;
  /** Bound on a remote plain Dockerfile's size (default 16 MiB). */
  maxDockerfileBytes?: number;
  /** Bound on the context archive's uncompressed size (default none, as dockerd). */
  maxContextBytes?: number;
  /**
   * Keep a request body's archive (up to a bound, in memory) and extract it only when files()
   * is first asked for: a build whose steps all come from the cache never writes it to disk.
   */
  lazy?: boolean;
}

export interface DockerIgnore {
  /** The patterns as read (normalised), in order. */
  readonly patterns: readonly string[];
  /** Whether a context path is ignored (dockerd's patternmatcher rules). */
  matches(relPath: string): boolean;
}

export interface BuildContext {
  /** The context's folder: extracted unless the context is lazy (then files() extracts it). */
  readonly dir: string;
  /** The extracted context (the folder COPY and ADD read from). */
  files(): Promise<string>;
  /** A lazy context's entries not yet extracted: what a path is ('file' or 'dir'), without the disk. */
  readonly indexed?: {
    kind(relPath: string): 'file' | 'dir' | undefined;
    /**
     * The entry at a path, as extraction would leave it; only when nothing was taken out of the
     * archive (.dockerignore), which would change the times of the folders it was taken from.
     */
    entry?(relPath: string): IndexedEntry | undefined;
  };
  /** Where the Dockerfile is on the host (outside `dir` when .dockerignore ignores it). */
  readonly dockerfilePath: string;
  /** The Dockerfile's name as dockerd reports it in errors ("failed to parse <name>: …"). */
  readonly dockerfileName: string;
  /** How the context arrived. */
  readonly source: 'body' | 'git' | 'url-tar' | 'url-dockerfile';
  readonly dockerignore: DockerIgnore;
  /** The Dockerfile's text; refuses an empty one with dockerd's message. */
  readDockerfile(): Promise<string>;
  /** The content hash of a context file or folder tree, for COPY/ADD cache keys ("sha256:…"). */
  hashPath(relPath: string): Promise<string>;
  /** Removes everything the context wrote. */
  cleanup(): Promise<void>;
}

const MAGICS = [
  Buffer.from([0x1f, 0x8b, 0x08]), // gzip
  Buffer.from('BZh'), // bzip2
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), // xz
];

/** A tar header block: "ustar" at 257, or (v7 tars) a header checksum that adds up. */
function looksLikeTar(head: Buffer): boolean {
  if (head.length < 512) return false;
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return true;
  const want = parseInt(head.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isFinite(want)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i];
  return sum === want;
}

/** Passes a stream on, failing it once more than `limit` bytes went through. */
function bounded(input: Readable, limit: number): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(invalid(`the build context is larger than the limit of ${limit} bytes`));
      else done(null, chunk);
    },
  });
  pipeline(input, out, () => {});
  return out;
}

/** lib/archive names a layer; here the archive is a build context. */
function contextError(err: unknown): unknown {
  if (err instanceof BerthError && err.message.startsWith('invalid layer archive: ')) {
    return new BerthError(err.code, `invalid build context: ${err.message.slice('invalid layer archive: '.length)}`, { cause: err });
  }
  return err;
}

async function extractInto(tar: Readable, dir: string, limit?: number): Promise<void> {
  try {
    const plain = await decompressedArchive(tar);
    await extractLayer(limit === undefined ? plain : bounded(plain, limit), dir, { whiteouts: 'none' });
  } catch (err) {
    throw contextError(err);
  }
}

/** Most bytes of a lazy context's (uncompressed) archive held in memory. */
const HOLD_LIMIT = 32 << 20;

interface HeldArchive {
  chunks: Buffer[];
  /** The whole archive is in `chunks`. */
  complete: boolean;
  /** The archive again, as received (a read error comes at the point it came). */
  replay(): Readable;
}

/** Reads the uncompressed archive into memory, up to HOLD_LIMIT. */
async function holdArchive(body: Readable, limit?: number): Promise<HeldArchive> {
  let plain: Readable;
  try {
    plain = await decompressedArchive(body);
  } catch (err) {
    throw contextError(err);
  }
  if (limit !== undefined) plain = bounded(plain, limit);
  const chunks: Buffer[] = [];
  let held = 0;
  let failure: unknown;
  const it = plain[Symbol.asyncIterator]();
  let complete = false;
  try {
    for (;;) {
      if (held > HOLD_LIMIT) break;
      const r = await it.next();
      if (r.done) {
        complete = true;
        break;
      }
      chunks.push(r.value as Buffer);
      held += (r.value as Buffer).length;
    }
  } catch (err) {
    failure = err;
  }
  return {
    chunks, complete: complete && failure === undefined,
    replay: () => Readable.from((async function* () {
      yield* chunks;
      if (failure !== undefined) throw failure;
      if (!complete) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
    })()),
  };
}

/** Opens a build context; on failure nothing it wrote is left behind. */
export async function openContext(opts: OpenContextOptions): Promise<BuildContext> {
  const base = await mkdtemp(join(opts.tmpDir, 'build-context-'));
  try {
    return await open(base, opts);
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    throw err;
  }
}

async function open(base: string, opts: OpenContextOptions): Promise<BuildContext> {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  let dir = join(base, 'context');
  let source: BuildContext['source'] = 'body';
  const remote = opts.remote ?? '';
  let plainDockerfile = false;
  if (remote === '') {
    if (!opts.body) throw invalid('no build context: send a tar (plain, gzip, bzip2 or xz) or give remote');
    await mkdir(dir);
    // Lazy only as root: extraction then gives each path the archive's owner, which the hashes cover.
    const held = opts.lazy && process.getuid?.() === 0 ? await holdArchive(opts.body, opts.maxContextBytes) : undefined;
    const index = held?.complete ? await indexTar(held.chunks).catch(() => undefined) : undefined;
    const lazy = index && held ? await openIndexed(base, dir, held.chunks, index, opts.dockerfile || DEFAULT_DOCKERFILE).catch(() => undefined) : undefined;
    if (lazy) return lazy;
    await extractInto(held ? held.replay() : opts.body, dir, opts.maxContextBytes);
  } else if (remote === 'client-session') {
    throw invalid('experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead');
  } else if (isGitURL(remote)) {
    source = 'git';
    const checkout = join(base, 'git');
    await mkdir(checkout);
    const root = await gitClone(remote, checkout, { timeoutMs, signal: opts.signal });
    await rename(root, dir);
  } else if (isURL(remote)) {
    const { body } = await download(remote, { timeoutMs, signal: opts.signal });
    const { head, whole } = await peekStream(body, 512);
    if (head.length === 0) throw invalid(`error detecting content type for remote ${remote}: empty response`);
    await mkdir(dir);
    if (MAGICS.some((m) => head.subarray(0, m.length).equals(m)) || looksLikeTar(head)) {
      source = 'url-tar';
      await extractInto(whole, dir, opts.maxContextBytes);
    } else {
      source = 'url-dockerfile';
      const text = await readLimited(whole, opts.maxDockerfileBytes ?? 16 << 20);
      if (text.includes(0)) throw invalid(`error detecting content type for remote ${remote}: unsupported Content-Type: neither a tar archive nor a text Dockerfile`);
      await writeFile(join(dir, DEFAULT_DOCKERFILE), text);
      plainDockerfile = true;
    }
  } else {
    throw invalid(`remoteURL (${remote}) could not be recognized as URL`);
  }

  // A remote plain Dockerfile is the Dockerfile, whatever `dockerfile` says (as dockerd).
  const given = plainDockerfile ? DEFAULT_DOCKERFILE : opts.dockerfile || DEFAULT_DOCKERFILE;
  const ignoreText = await readFileInRoot(dir, '.dockerignore').catch((err: Error) => {
    throw invalid(`error reading .dockerignore: ${err.message}`);
  });
  let patterns: string[] = [];
  if (ignoreText !== null) patterns = readIgnoreFile(ignoreText);
  const matcher = new PatternMatcher(patterns);
  let { host: dockerfileHost, name } = await locateDockerfile(dir, given);

  // dockerd: the Dockerfile and .dockerignore are read, then taken out of the context when
  // .dockerignore names them; every other ignored path is left out of the context too.
  if (matcher.matches(name)) {
    const moved = join(base, 'Dockerfile.ignored');
    await rename(dockerfileHost, moved);
    dockerfileHost = moved;
  }
  if (patterns.length) await prune(dir, '', matcher);
  const hasher = new ContentHasher(dir);
  return {
    dir,
    files: async () => dir,
    dockerfilePath: dockerfileHost,
    dockerfileName: name,
    source,
    dockerignore: { patterns, matches: (p) => matcher.matches(p) },
    async readDockerfile() {
      const text = await readFile(dockerfileHost, 'utf8');
      if (text.length === 0) throw invalid(`the Dockerfile (${name}) cannot be empty`);
      return text;
    },
    hashPath: (rel) => hasher.hashPath(rel),
    async cleanup() {
      await rm(base, { recursive: true, force: true });
    },
  };
}

/**
 * The `dockerfile` parameter inside the context: relative or absolute (both from the context's
 * root), the default's lower-case spelling accepted, symlinks resolved without leaving it.
 */
export async function locateDockerfile(dir: string, given: string): Promise<{ host: string; name: string }> {
  const normalized = posix.normalize(given.replace(/\\/g, '/'));
  const rel = posix.isAbsolute(normalized) ? cleanRel(normalized) : normalized.replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) throw invalid(`The Dockerfile (${given}) must be within the build context`);
  const candidates = given === DEFAULT_DOCKERFILE ? [rel, rel.toLowerCase()] : [rel];
  for (const candidate of candidates) {
    const parts = await resolveParts(candidate, (p) => join(dir, ...p));
    const host = join(dir, ...parts);
    const st = await lstat(host).catch(() => null);
    if (st?.isFile()) return { host, name: candidate };
    if (st?.isDirectory()) throw invalid(`Cannot locate specified Dockerfile: ${given} (it is a directory)`);
  }
  throw invalid(`Cannot locate specified Dockerfile: ${given}`);
}

/**
 * openContext's work on an archive held in memory: the Dockerfile, .dockerignore and hashes from
 * its index; extracted (and pruned as the disk path prunes) when files() is first asked for.
 * Undefined when something is unusual: the disk path then does it (and says what is wrong).
 */
async function openIndexed(base: string, dir: string, chunks: Buffer[], index: Map<string, IndexedEntry>, given: string): Promise<BuildContext | undefined> {
  const ignore = index.get('.dockerignore');
  if (ignore && ignore.kind !== 'file') return undefined;
  const patterns = ignore ? readIgnoreFile(ignore.data!.toString('utf8')) : [];
  const matcher = new PatternMatcher(patterns);
  const normalized = posix.normalize(given.replace(/\\/g, '/'));
  const rel = posix.isAbsolute(normalized) ? cleanRel(normalized) : normalized.replace(/\/+$/, '');
  let found: { key: string; name: string; text: string } | undefined;
  for (const candidate of given === DEFAULT_DOCKERFILE ? [rel, rel.toLowerCase()] : [rel]) {
    const parts = candidate.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) return undefined;
    const e = index.get(parts.join('/'));
    if (e?.kind === 'dir') return undefined;
    if (e) {
      found = { key: parts.join('/'), name: candidate, text: e.data!.toString('utf8') };
      break;
    }
  }
  if (!found) return undefined;
  const { key, name, text } = found;
  const dockerfileIgnored = matcher.matches(name);
  const before = index.size;
  if (dockerfileIgnored) removeEntry(index, key);
  if (patterns.length) pruneIndex(index, '', matcher);
  const pristine = index.size === before;
  const st = await lstat(dir);
  const hasher = new IndexHasher(index, { mode: st.mode, uid: st.uid, gid: st.gid });
  let extracted: Promise<string> | undefined;
  let pending = true;
  const files = () => (extracted ??= (async () => {
    pending = false;
    await extractInto(Readable.from(chunks), dir);
    if (dockerfileIgnored) await rm(join(dir, ...key.split('/')), { force: true });
    if (patterns.length) await prune(dir, '', matcher);
    return dir;
  })());
  return {
    dir,
    files,
    get indexed() {
      if (!pending) return undefined;
      return { kind: (p: string) => index.get(p)?.kind, ...(pristine ? { entry: (p: string) => index.get(p) } : {}) };
    },
    dockerfilePath: join(dir, ...key.split('/')),
    dockerfileName: name,
    source: 'body',
    dockerignore: { patterns, matches: (p) => matcher.matches(p) },
    async readDockerfile() {
      if (text.length === 0) throw invalid(`the Dockerfile (${name}) cannot be empty`);
      return text;
    },
    async hashPath(relPath) {
      const clean = cleanRel(relPath) === '.' ? '' : cleanRel(relPath);
      const parts = clean.split('/').filter((p) => p !== '' && p !== '.');
      const at = parts.join('/');
      const hash = parts.includes('..') ? undefined : hasher.hash(at);
      if (hash) return hash;
      await files();
      return new ContentHasher(dir).hashPath(relPath);
    },
    async cleanup() {
      await extracted?.catch(() => {});
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** prune() on the index: what prune() leaves on disk. */
function pruneIndex(index: Map<string, IndexedEntry>, rel: string, matcher: PatternMatcher): void {
  for (const name of [...index.get(rel)!.children!]) {
    const child = rel ? `${rel}/${name}` : name;
    const c = index.get(child)!;
    if (matcher.matches(child)) {
      if (c.kind === 'dir' && matcher.exclusions) {
        pruneIndex(index, child, matcher);
        if (c.children!.size === 0) removeEntry(index, child); // kept only when something inside was re-included
      } else removeEntry(index, child);
    } else if (c.kind === 'dir') pruneIndex(index, child, matcher);
  }
}

/** Removes ignored paths; an ignored folder is entered only when a `!` pattern may keep some of it. */
async function prune(dir: string, rel: string, matcher: PatternMatcher): Promise<void> {
  const entries = await readdir(join(dir, rel), { withFileTypes: true });
  for (const e of entries) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    const full = join(dir, child);
    if (matcher.matches(child)) {
      if (e.isDirectory() && matcher.exclusions) {
        await prune(dir, child, matcher);
        await rmdir(full).catch(() => {}); // kept only when something inside was re-included
      } else await rm(full, { recursive: true, force: true });
    } else if (e.isDirectory()) await prune(dir, child, matcher);
  }
}
