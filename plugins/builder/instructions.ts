// Each Dockerfile instruction as dockerd's classic builder dispatches it (builder/dockerfile/
// dispatchers.go): metadata ones change the config and commit an empty layer with their
// "#(nop)" comment; RUN runs in a container; COPY and ADD write into one.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { invalid } from '../../core/plugin-api.js';
import { decompressedArchive, extractLayer } from '../../lib/archive/index.js';
import { encodeHeader, END_OF_ARCHIVE } from '../../lib/archive/tar-writer.js';
import { resolveUser } from '../../lib/resolve-user.js';
import type { Build } from './build.js';
import { checkClassicFlags, healthcheckConfig, parseOnbuildTrigger, type Instruction } from './dockerfile/index.js';
import { goHealthcheck, goList, goQuoteList } from './go-format.js';
import { indexedItems, planCopy, planSources, tarOf, type CopyItem, type CopyPlan } from './copy-source.js';
import { runBuildArgs, setEnv, type StageState } from './stage-state.js';
import { StepError } from './step-containers.js';

/** ENV/LABEL/ARG's key, value pairs (an ARG without a default: undefined). */
const pairs = (i: Instruction) => {
  const out: [string, string | undefined][] = [];
  for (let k = 0; k < i.args.length; k += 2) out.push([i.args[k], i.cmd === 'arg' ? i.argDefaults?.[k / 2] ?? undefined : i.args[k + 1]]);
  return out;
};

export async function dispatch(b: Build, s: StageState, written: Instruction): Promise<void> {
  checkClassicFlags(written);
  const i = b.expandInstruction(s, written);
  const c = s.runConfig;
  switch (i.cmd) {
    case 'env': {
      const parts: string[] = [];
      for (const [key, v] of pairs(i)) {
        const value = v ?? '';
        setEnv(c, key, value);
        parts.push(`${key}=${value}`);
      }
      return b.commitMeta(s, `ENV ${parts.join(' ')}`);
    }
    case 'label': {
      const parts: string[] = [];
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [key, v] of pairs(i)) {
        const value = v ?? '';
        c.Labels[key] = value;
        parts.push(`${key}=${value}`);
      }
      return b.commitMeta(s, `LABEL ${parts.join(' ')}`);
    }
    case 'maintainer':
      s.author = i.args.join(' ');
      return b.commitMeta(s, `MAINTAINER ${s.author}`);
    case 'arg': {
      const parts: string[] = [];
      for (const [k, v] of pairs(i)) {
        const given = b.opts.buildArgs[k];
        const dflt = v === undefined ? (b.metaArgs.has(k) ? b.metaArgs.get(k) : undefined) : v;
        s.args.set(k, given !== undefined && given !== null ? given : dflt);
        b.consumed.add(k);
        parts.push(v === undefined ? k : `${k}=${v}`);
      }
      return b.commitMeta(s, `ARG ${parts.join(' ')}`);
    }
    case 'cmd':
      c.Cmd = b.shellCmd(s, i);
      s.cmdSet = true;
      return b.commitMeta(s, `CMD ${goQuoteList(c.Cmd)}`);
    case 'entrypoint':
      c.Entrypoint = i.json || (i.args[0] ?? '') !== '' ? b.shellCmd(s, i) : null;
      if (!s.cmdSet) c.Cmd = null;
      return b.commitMeta(s, `ENTRYPOINT ${goQuoteList(c.Entrypoint)}`);
    case 'expose': {
      const ports = i.args;
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of ports) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalid(`Invalid containerPort: ${p}`);
        c.ExposedPorts[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      return b.commitMeta(s, `EXPOSE ${ports.join(' ')}`);
    }
    case 'user':
      c.User = i.args[0] ?? '';
      return b.commitMeta(s, `USER ${c.User}`);
    case 'stopsignal':
      c.StopSignal = i.args[0] ?? '';
      return b.commitMeta(s, `STOPSIGNAL ${c.StopSignal}`);
    case 'volume': {
      const vols = i.args.filter(Boolean);
      if (!vols.length) throw invalid('VOLUME specified can not be an empty string');
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of vols) c.Volumes[v] = {};
      return b.commitMeta(s, `VOLUME ${goList(vols)}`);
    }
    case 'healthcheck': {
      c.Healthcheck = healthcheckConfig(i);
      return b.commitMeta(s, `HEALTHCHECK ${goHealthcheck(c.Healthcheck ?? {})}`);
    }
    case 'shell':
      if (!i.json) throw invalid('SHELL requires the arguments to be in JSON form');
      c.Shell = i.args;
      return b.commitMeta(s, `SHELL ${goList(i.args)}`);
    case 'onbuild': {
      const expr = i.original.replace(/^\s*onbuild\s*/i, '');
      parseOnbuildTrigger(expr);
      c.OnBuild = [...(c.OnBuild ?? []), expr];
      return b.commitMeta(s, `ONBUILD ${expr}`);
    }
    case 'workdir':
      return workdir(b, s, i.args[0] ?? '');
    case 'run':
      return run(b, s, i);
    case 'copy':
    case 'add':
      return copy(b, s, i);
    default:
      throw invalid(`unknown instruction: ${i.cmd.toUpperCase()}`);
  }
}

/** ONBUILD triggers of the base image: run after its FROM, then gone from the config. */
export async function runTriggers(b: Build, s: StageState): Promise<void> {
  const triggers = s.runConfig.OnBuild ?? [];
  s.runConfig.OnBuild = null;
  if (!triggers.length) return;
  b.out.stream(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
  for (const t of triggers) await dispatch(b, s, parseOnbuildTrigger(t));
}

async function workdir(b: Build, s: StageState, dir: string): Promise<void> {
  if (!dir) throw invalid('WORKDIR requires exactly one argument');
  const path = posix.resolve('/', s.runConfig.WorkingDir || '/', dir);
  s.runConfig.WorkingDir = path;
  const probe = { ...structuredClone(s.runConfig), Cmd: [...(s.runConfig.Shell ?? ['/bin/sh', '-c']), `#(nop) WORKDIR ${path}`] };
  await b.step(s, probe, async (id) => {
    if (await b.containers.stat(id, path)) return;
    await b.containers.extract(id, '/', dirsTar(path));
  });
}

/** A tar of the folders of an absolute path (root-owned, 0755), for what must exist. */
function dirsTar(path: string): Readable {
  const parts = path.split('/').filter(Boolean);
  const blocks = parts.map((_, k) => encodeHeader({ path: `${parts.slice(0, k + 1).join('/')}/`, typeflag: '5', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: Math.floor(Date.now() / 1000) }));
  return Readable.from([...blocks, END_OF_ARCHIVE]);
}

async function run(b: Build, s: StageState, i: Instruction): Promise<void> {
  const cmd = b.shellCmd(s, i);
  const args = runBuildArgs(s, b.opts.buildArgs);
  const saveCmd = args.history.length ? [`|${args.history.length}`, ...args.history, ...cmd] : cmd;
  const probe = { ...structuredClone(s.runConfig), Cmd: saveCmd, Entrypoint: null };
  const create = {
    ...structuredClone(s.runConfig), Cmd: cmd, Entrypoint: [''], Env: [...(s.runConfig.Env ?? []), ...args.env],
    Healthcheck: { Test: ['NONE'] }, AttachStdout: true, AttachStderr: true,
  };
  await b.step(s, probe, async (id) => {
    const code = await b.containers.run(id, (d) => b.out.stdout(d), (d) => b.out.stderr(d));
    if (code !== 0) throw new StepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
  }, create);
}

/** --chown's user and group: numbers, or names looked up in the container's /etc/passwd and /etc/group. */
async function owner(b: Build, id: string, chown: string | undefined): Promise<{ uid: number; gid: number }> {
  if (!chown) return { uid: 0, gid: 0 };
  const [u, g = u] = chown.split(':');
  if (/^\d+$/.test(u) && /^\d+$/.test(g)) return { uid: Number(u), gid: Number(g) };
  const dir = b.scratchDir(`etc-${id.slice(0, 12)}`);
  await mkdir(`${dir}/etc`, { recursive: true, mode: 0o700 });
  try {
    for (const f of ['/etc/passwd', '/etc/group']) {
      const job = b.deps.engine.job('container.archive', { name: id, path: f });
      const done = extractLayer(job.stdout, `${dir}/etc`, { whiteouts: 'delete' }).catch(() => undefined);
      await job.run().catch(() => undefined);
      job.stdout.end();
      await done;
    }
    const user = await resolveUser(dir, chown.includes(':') ? chown : `${u}:${u}`).catch((err: Error) => {
      throw invalid(`unable to convert uid/gid chown string to host mapping: ${err.message}`);
    });
    return { uid: user.uid, gid: user.gid };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ARCHIVE_MAGIC = [Buffer.from([0x1f, 0x8b]), Buffer.from('BZh'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])];

async function copy(b: Build, s: StageState, i: Instruction): Promise<void> {
  const what = i.cmd.toUpperCase();
  const words = i.args;
  if (words.length < 2) throw invalid(`${what} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  const rawDest = words[words.length - 1];
  const sources = words.slice(0, -1);
  const dest = posix.resolve('/', s.runConfig.WorkingDir || '/', rawDest) + (rawDest.endsWith('/') || rawDest === '.' ? '/' : '');
  const normDest = dest === '//' ? '/' : dest;
  // COPY --from: an image's files never change, so its ID and the paths are their identity; the
  // files are copied out of it only when the step is not in the cache.
  const fromImage = i.flags.from ? await sourceImage(b, i.flags.from) : undefined;
  let root = '';
  let cleanup: (() => Promise<void>) | undefined;
  try {
    const urls = i.cmd === 'add' ? sources.filter((src) => /^https?:\/\//.test(src)) : [];
    const locals = sources.filter((src) => !urls.includes(src));
    const downloads = await Promise.all(urls.map((u) => download(b, u, normDest)));
    let plan: CopyPlan | undefined;
    const planLocal = async (): Promise<CopyPlan> => {
      if (plan) return plan;
      if (fromImage) ({ root, cleanup } = await stageFiles(b, fromImage, i.flags.from, sources));
      else root = await b.context!.files();
      plan = locals.length
        ? await planCopy(root, locals, urls.length ? `${normDest.replace(/\/?$/, '/')}` : normDest, what)
        : { kind: 'multi', matched: [], items: async () => [] };
      return plan;
    };
    let hash: string;
    let srcKind: string;
    let indexedPlan: Pick<CopyPlan, 'kind' | 'matched'> | undefined;
    if (fromImage) {
      hash = createHash('sha256').update(`${fromImage}\0${sources.join('\0')}`).digest('hex');
      // What the path is, is not known before the files are copied out: a trailing "/" says a folder.
      srcKind = sources.length > 1 ? 'multi' : sources[0].endsWith('/') ? 'dir' : 'file';
    } else {
      // A context not extracted yet answers from its index: a step from the cache needs no files.
      indexedPlan = planIndexed(b, locals, urls.length ? `${normDest.replace(/\/?$/, '/')}` : normDest, what);
      const { kind, matched } = indexedPlan ?? await planLocal();
      const hashes = [...await Promise.all(matched.map((m) => b.context!.hashPath(m))), ...downloads.map((d) => d.hash)].map((h) => h.replace(/^sha256:/, ''));
      // dockerd: one source's own hash; several sources, the hash of their hashes.
      hash = hashes.length === 1 ? hashes[0] : createHash('sha256').update(hashes.join(',')).digest('hex');
      srcKind = urls.length && !locals.length && urls.length === 1 ? 'file' : urls.length ? 'multi' : kind;
    }
    const chown = i.flags.chown ? `--chown=${i.flags.chown}` : '';
    const comment = `${what} ${chown}${srcKind}:${hash} in ${normDest} `;
    const probe = { ...structuredClone(s.runConfig), Cmd: [...(s.runConfig.Shell ?? ['/bin/sh', '-c']), `#(nop) ${comment}`] };
    await b.step(s, probe, async (id) => {
      // COPY from a context still in memory: its files from there, the context never extracted.
      const entry = i.cmd === 'copy' && indexedPlan ? b.context?.indexed?.entry : undefined;
      const items = entry ? indexedItems(entry, indexedPlan!.matched, normDest) : await (await planLocal()).items();
      const archives = i.cmd === 'add' ? await archiveItems(items) : new Set<CopyItem>();
      const who = await owner(b, id, i.flags.chown || undefined);
      const plain = [...items.filter((it) => !archives.has(it)), ...downloads.map((d) => d.item)];
      // Without archives to unpack after them, most files go straight into the step's layer.
      const { now, later } = archives.size ? { now: plain, later: [] } : splitForLayer(plain);
      if (now.length) await b.containers.extract(id, '/', tarOf(now, who));
      if (later.length) return tarOf(later, who);
      for (const a of archives) {
        // ADD of a local archive: its contents, unpacked into the destination folder.
        const target = normDest.endsWith('/') ? normDest : posix.dirname(`/${a.dest}`);
        if (!(await b.containers.stat(id, target))) await b.containers.extract(id, '/', dirsTar(target));
        await b.containers.extract(id, target, await decompressedArchive(createReadStream(a.host)));
      }
    }, probe, { announce: false });
  } finally {
    await cleanup?.();
  }
}

/**
 * A COPY's items in two: what is extracted into the step's container (everything but files, and
 * one file of each folder no item makes, so that the container has each folder as extracting all
 * would leave it), and the other files, which the commit appends to the layer, after the folders
 * that hold them. Items with the same destination are all extracted, in order.
 */
function splitForLayer(items: CopyItem[]): { now: CopyItem[]; later: CopyItem[] } {
  if (new Set(items.map((i) => i.dest)).size !== items.length) return { now: items, later: [] };
  const dirs = new Set(items.filter((i) => i.kind === 'dir').map((i) => i.dest));
  const now: CopyItem[] = [];
  const later: CopyItem[] = [];
  for (const i of items) {
    const parent = posix.dirname(i.dest);
    if (i.kind === 'file' && dirs.has(parent)) later.push(i);
    else {
      now.push(i);
      if (i.kind === 'file') dirs.add(parent);
    }
  }
  return { now, later };
}

/** The copy plan's matches and kind from a context not extracted yet (undefined: ask the disk). */
function planIndexed(b: Build, locals: string[], dest: string, what: string): Pick<CopyPlan, 'kind' | 'matched'> | undefined {
  const indexed = b.context?.indexed;
  if (!indexed) return undefined;
  if (!locals.length) return { kind: 'multi', matched: [] };
  return planSources((p) => indexed.kind(p), locals, dest, what);
}

/** Local sources of ADD that are archives (gzip, bzip2, xz or plain tar): unpacked, not copied. */
async function archiveItems(items: CopyItem[]): Promise<Set<CopyItem>> {
  const out = new Set<CopyItem>();
  for (const it of items) {
    if (it.kind !== 'file' || it.size < 4) continue;
    const fh = await open(it.host, 'r');
    try {
      const head = Buffer.alloc(512);
      const { bytesRead } = await fh.read(head, 0, 512, 0);
      const isTar = bytesRead >= 262 && head.subarray(257, 262).toString() === 'ustar';
      if (isTar || ARCHIVE_MAGIC.some((m) => head.subarray(0, m.length).equals(m))) out.add(it);
    } finally {
      await fh.close();
    }
  }
  return out;
}

/** ADD <url>: the file, named after the URL unless the destination names it, its mtime Last-Modified's. */
async function download(b: Build, url: string, dest: string): Promise<{ item: CopyItem; hash: string }> {
  const res = await fetch(url, { signal: AbortSignal.any([b.signal, AbortSignal.timeout(300_000)]) });
  if (!res.ok) throw invalid(`failed to GET ${url} with status ${res.status} ${res.statusText}`);
  const data = Buffer.from(await res.arrayBuffer());
  const dir = b.scratchDir('downloads');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hash = createHash('sha256').update(data).digest('hex');
  const host = `${dir}/${hash}`;
  await writeFile(host, data, { mode: 0o600 });
  const base = posix.basename(new URL(url).pathname) || 'index.html';
  const name = dest.endsWith('/') ? `${dest}${base}` : dest;
  const modified = Date.parse(res.headers.get('last-modified') ?? '');
  return { item: { host, dest: name.replace(/^\/+/, ''), kind: 'file', mode: 0o600, size: data.length, mtime: Math.floor((Number.isNaN(modified) ? Date.now() : modified) / 1000) }, hash };
}

/** COPY --from's image: an earlier stage's result (by name or index), else an image (pulled if need be). */
async function sourceImage(b: Build, from: string): Promise<string> {
  return b.results.get(from.toLowerCase()) ?? b.deps.images().find(from)?.id ?? b.baseImage(from);
}

/**
 * COPY --from: the named paths of an earlier stage's (or any image's) file system, copied out of a
 * container of it into a scratch folder, where the copy plan reads them as it reads the context.
 */
async function stageFiles(b: Build, imageId: string, from: string, sources: string[]): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = b.scratchDir(`from-${Math.random().toString(16).slice(2)}`);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const id = await b.containers.create({ Cmd: ['#(nop) COPY --from'] }, imageId);
  try {
    for (const src of sources) {
      // A glob: the folder above its first wildcard is copied out, the copy plan matches in it.
      const whole = posix.normalize(`/${src}`).replace(/\/$/, '') || '/';
      const segments = whole.split('/');
      const wild = segments.findIndex((p) => /[*?[]/.test(p));
      const clean = wild < 0 ? whole : segments.slice(0, wild).join('/') || '/';
      if (clean === '/' && wild >= 0) throw invalid(`COPY --from: a wildcard in the first folder of ${src} would copy the whole image; name a folder first`);
      const parent = `${root}${posix.dirname(clean)}`;
      await mkdir(parent, { recursive: true });
      const job = b.deps.engine.job('container.archive', { name: id, path: clean });
      const done = extractLayer(job.stdout, parent, { whiteouts: 'delete' });
      try {
        await job.run();
      } catch (err) {
        job.stdout.destroy();
        await done.catch(() => {});
        throw invalid(`COPY failed: stat ${clean}: file does not exist (in ${from}): ${(err as Error).message}`);
      }
      job.stdout.end();
      await done;
    }
  } finally {
    await b.containers.remove(id).catch(() => {});
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

