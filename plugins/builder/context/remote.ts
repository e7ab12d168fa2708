// Remote build contexts as dockerd fetches them (daemon/builder/remotecontext): which `remote=`
// values are git repositories or URLs, an HTTP(S) download, and a shallow git fetch of one ref.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { defaultTrust } from '../../../lib/trusted-cas.js';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, invalid, notFound, systemError } from '../../../core/plugin-api.js';
import { resolveParts } from '../../../lib/scoped-path.js';

/** urlutil.IsURL. */
export const isURL = (s: string) => s.startsWith('https://') || s.startsWith('http://');

/** urlutil.IsGitURL: `https://….git[#…]`, `git://`, `github.com/`, `git@`. */
export function isGitURL(s: string): boolean {
  if (isURL(s) && /\.git(?:#.+)?$/.test(s)) return true;
  return ['git://', 'github.com/', 'git@'].some((p) => s.startsWith(p));
}

const MAX_REDIRECTS = 10;

/**
 * GETs `url` (following up to 10 redirects, as Go's client does) and resolves with the response
 * once its status is below 400; otherwise fails with dockerd's "failed to GET … with status …".
 */
export async function download(url: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<{ body: IncomingMessage; contentType: string }> {
  let target = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const get = target.startsWith('https:') ? httpsGet : httpGet;
      const ca = target.startsWith('https:') ? defaultTrust() : undefined;
      const req = get(target, { signal: opts.signal, timeout: opts.timeoutMs, ...(ca ? { ca } : {}) }, resolve);
      req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs} ms`)));
      req.on('error', reject);
    }).catch((err: Error) => {
      throw systemError(`error downloading remote context ${url}: Get ${JSON.stringify(target)}: ${err.message}`, err);
    });
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      target = new URL(res.headers.location, target).toString();
      continue;
    }
    if (status < 400) {
      // A stalled transfer fails instead of hanging the build.
      res.setTimeout(opts.timeoutMs, () => res.destroy(new Error(`error downloading remote context ${url}: no data for ${opts.timeoutMs} ms`)));
      return { body: res, contentType: String(res.headers['content-type'] ?? '') };
    }
    const text = (await readLimited(res, 64 * 1024).catch(() => Buffer.alloc(0))).toString().trim();
    const msg = `error downloading remote context ${url}: failed to GET ${target} with status ${status} ${res.statusMessage ?? ''}: ${text}`;
    throw status === 404 ? notFound(msg) : status === 400 ? invalid(msg) : new BerthError('E_SYSTEM', msg);
  }
  throw systemError(`error downloading remote context ${url}: stopped after ${MAX_REDIRECTS} redirects`);
}

/** Reads a stream to its end, refusing more than `limit` bytes. */
export async function readLimited(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw invalid(`the remote Dockerfile is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

interface GitRemote {
  remote: string;
  ref: string;
  subdir: string;
}

/** gitutils.parseRemoteURL: the fragment `#ref:subdir` (ref master by default). */
export function parseGitURL(remoteURL: string): GitRemote {
  let url = remoteURL;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!url.startsWith('git@') && !['git', 'http', 'https', 'ssh'].includes(scheme ?? '')) url = 'https://' + url;
  const hash = url.indexOf('#');
  const fragment = hash < 0 ? '' : url.slice(hash + 1);
  const remote = hash < 0 ? url : url.slice(0, hash);
  const colon = fragment.indexOf(':');
  const ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || 'master';
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  if (ref.startsWith('-')) throw invalid(`invalid refspec: ${ref}`);
  return { remote, ref, subdir };
}

function git(dir: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<string> {
  // As dockerd: no file:// submodules, no system or user git config, no prompts.
  const env = { ...process.env, GIT_PROTOCOL_FROM_USER: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
  return new Promise((resolve, reject) => {
    execFile('git', ['-c', 'protocol.file.allow=never', ...args], { cwd: dir, env, timeout: timeoutMs, killSignal: 'SIGKILL', signal, maxBuffer: 4 << 20 },
      (err, stdout, stderr) => (err ? reject(Object.assign(err, { output: `${stdout}${stderr}`.trim() })) : resolve(`${stdout}${stderr}`)));
  });
}

/** Whether an HTTP(S) git server answers the smart protocol (shallow fetches need it). */
async function supportsShallow(remote: string, timeoutMs: number): Promise<boolean> {
  if (!isURL(remote)) return true;
  try {
    const { body, contentType } = await download(`${remote}/info/refs?service=git-upload-pack`, { timeoutMs });
    body.resume();
    return contentType === 'application/x-git-upload-pack-advertisement';
  } catch {
    return false;
  }
}

/**
 * Fetches `ref` of the repository into `dir` (git init, fetch --depth 1, checkout, submodules) as
 * dockerd does, and answers the folder that is the context: `dir` itself or its `subdir`.
 */
export async function gitClone(remoteURL: string, dir: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<string> {
  const repo = parseGitURL(remoteURL);
  const run = (args: string[]) => git(dir, args, opts.timeoutMs, opts.signal);
  const failed = (what: string) => (err: Error & { output?: string }) => {
    throw invalid(`${what}: ${err.output || err.message}`);
  };
  await run(['init']).catch(failed(`failed to init repo at ${dir}`));
  await run(['remote', 'add', 'origin', repo.remote]).catch(failed(`failed add origin repo at ${repo.remote}`));
  const shallow = (await supportsShallow(repo.remote, opts.timeoutMs)) ? ['--depth', '1'] : [];
  await run(['fetch', ...shallow, 'origin', '--', repo.ref]).catch(failed('error fetching'));
  try {
    await run(['checkout', repo.ref]);
  } catch (err) {
    await run(['checkout', 'FETCH_HEAD']).catch(() => failed(`error checking out ${repo.ref}`)(err as Error));
  }
  await run(['submodule', 'update', '--init', '--recursive', '--depth=1']).catch(failed('error initializing submodules'));
  if (repo.subdir === '') return dir;
  const parts = await resolveParts(repo.subdir, (p) => join(dir, ...p));
  const sub = join(dir, ...parts);
  const st = await stat(sub).catch(() => null);
  if (!st) throw invalid(`error setting git context, ${JSON.stringify(repo.subdir)} not within git root: no such file or directory`);
  if (!st.isDirectory()) throw invalid(`error setting git context, not a directory: ${repo.subdir}`);
  return sub;
}
