// docker load: docker-archive (manifest.json) and OCI image-layout archives. The archive is
// spooled to a private folder first (its entries come in any order), with every name checked so
// nothing lands outside it; then each image's missing layers are registered as one chain (applied
// concurrently where the graph driver allows) and images stored.
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { mkdirAll } from '../../lib/mkdir-all.js';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { BerthError, invalid } from '../../core/plugin-api.js';
import { decompressedArchive, TarReader } from '../../lib/archive/index.js';
import { chainIds, hexOf } from '../../lib/digest.js';
import type { Emit, Images } from './images.js';
import type { ChainItem } from './layer-store.js';
import { familiarString, normalize } from '../../lib/image-reference.js';
import { tee } from './tee.js';

interface Spool {
  /** The archive as received, one sequential write. */
  file: string;
  /** Regular files: where their data lies in the archive. */
  files: Map<string, { start: number; size: number }>;
  links: Map<string, string>;
}

function cleanName(name: string): string {
  const n = posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/$/, '');
  if (n === '.' || n === '') return '';
  if (n.startsWith('../') || n === '..' || posix.isAbsolute(n)) throw invalid(`invalid archive: entry "${name}" points outside the archive`);
  return n;
}

/**
 * Writes the archive to one file while indexing its entries from the same bytes: its members are
 * then read in place (entries come in any order, and the manifest usually last).
 */
const SOURCE_VERDICT_MS = 2_000;

/** The error `done` rejects with within `ms`, or undefined (it succeeded, or is still going). */
async function sourceFailure(done: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  try {
    return await Promise.race([done.then(() => undefined, (err: unknown) => err), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function spoolArchive(input: Readable, dir: string): Promise<Spool> {
  const spool: Spool = { file: join(dir, 'archive.tar'), files: new Map(), links: new Map() };
  const [toFile, toIndex] = tee(input, 2);
  const index = async () => {
    try {
      for await (const entry of new TarReader(toIndex).entries()) {
        const name = cleanName(entry.header.path);
        if (!name) continue;
        if (entry.header.kind === 'file') {
          spool.files.set(name, { start: entry.offset + entry.raw.length, size: entry.header.size });
          spool.links.delete(name);
        } else if (entry.header.kind === 'symlink' && entry.header.linkpath) {
          // Recorded, never created on disk: resolved by name when read, inside the archive only.
          spool.links.set(name, cleanName(posix.join(posix.dirname(name), entry.header.linkpath)));
        }
      }
    } catch (err) {
      toIndex.resume();
      throw err instanceof BerthError ? err : invalid(`invalid archive: ${(err as Error).message}`);
    }
  };
  const written = pipeline(toFile, createWriteStream(spool.file, { mode: 0o600 }));
  try {
    await Promise.all([written, index()]);
  } catch (err) {
    // A failed source explains the parse error it caused: a corrupt xz archive is decoded into some
    // garbage before xz notices, and "checksum field is not an octal number" would hide xz's
    // message. The rest of the stream still drains to the file: its outcome is waited for briefly.
    throw (await sourceFailure(written, SOURCE_VERDICT_MS)) ?? err;
  }
  return spool;
}

function member(spool: Spool, name: string): { start: number; size: number } {
  let n = cleanName(name);
  for (let hops = 0; hops < 16; hops++) {
    const target = spool.links.get(n);
    if (target === undefined) {
      const f = spool.files.get(n);
      if (!f) throw invalid(`invalid archive: missing file ${name}`);
      return f;
    }
    n = target;
  }
  throw invalid(`invalid archive: too many symlinks resolving ${name}`);
}

function openMember(spool: Spool, name: string): Readable {
  const { start, size } = member(spool, name);
  return size === 0 ? Readable.from([]) : createReadStream(spool.file, { start, end: start + size - 1 });
}

async function readMember(spool: Spool, name: string): Promise<Buffer> {
  const { start, size } = member(spool, name);
  const fd = await open(spool.file, 'r');
  try {
    const buf = Buffer.alloc(size);
    await fd.read(buf, 0, size, start);
    return buf;
  } finally {
    await fd.close();
  }
}

const readJson = async (spool: Spool, name: string) => {
  try {
    return JSON.parse((await readMember(spool, name)).toString('utf8'));
  } catch (err) {
    throw err instanceof SyntaxError ? invalid(`invalid archive: ${name} is not valid JSON`) : err;
  }
};

interface LoadTarget {
  configPath: string;
  layerPaths: string[];
  tags: string[];
}

async function dockerArchiveTargets(spool: Spool): Promise<LoadTarget[]> {
  const manifest = await readJson(spool, 'manifest.json');
  if (!Array.isArray(manifest)) throw invalid('invalid archive: manifest.json must be a list');
  return manifest.map((m: { Config?: string; Layers?: string[]; RepoTags?: string[] | null }) => {
    if (typeof m.Config !== 'string' || !Array.isArray(m.Layers)) throw invalid('invalid archive: manifest.json entry without Config or Layers');
    return { configPath: m.Config, layerPaths: m.Layers, tags: m.RepoTags ?? [] };
  });
}

async function ociTargets(spool: Spool): Promise<LoadTarget[]> {
  const blob = (digest: string) => {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid(`invalid archive: bad digest ${digest}`);
    return `blobs/sha256/${hexOf(digest)}`;
  };
  const out: LoadTarget[] = [];
  const visit = async (descriptors: { mediaType?: string; digest: string; annotations?: Record<string, string> }[], name?: string) => {
    for (const d of descriptors ?? []) {
      const ref = d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'] ?? name;
      const doc = await readJson(spool, blob(d.digest));
      if (Array.isArray(doc.manifests)) {
        await visit(doc.manifests, ref);
      } else if (doc.config?.digest && Array.isArray(doc.layers)) {
        const tag = ref && /[/:]/.test(ref) ? ref : undefined; // a bare "1.0" ref.name is not a full reference
        out.push({ configPath: blob(doc.config.digest), layerPaths: doc.layers.map((l: { digest: string }) => blob(l.digest)), tags: tag ? [tag] : [] });
      }
    }
  };
  const index = await readJson(spool, 'index.json');
  await visit(index.manifests);
  return out;
}

export async function loadImages(images: Images, input: Readable, tmpRoot: string, out: (msg: object) => void, emit: Emit, log?: Logger): Promise<void> {
  const dir = join(tmpRoot, `load-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  await mkdirAll(dir, 0o700);
  try {
    const started = performance.now();
    const spool = await spoolArchive(await decompressedArchive(input), dir);
    log?.debug({ ms: Math.round(performance.now() - started), members: spool.files.size }, 'load: archive spooled');
    let targets: LoadTarget[];
    if (spool.files.has('manifest.json') || spool.links.has('manifest.json')) targets = await dockerArchiveTargets(spool);
    else if (spool.files.has('index.json')) targets = await ociTargets(spool);
    else throw invalid('invalid archive: it holds neither manifest.json (docker save) nor index.json (OCI image layout)');
    for (const t of targets) {
      const raw = await readMember(spool, t.configPath);
      const config = JSON.parse(raw.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== t.layerPaths.length) {
        throw invalid(`invalid archive: ${t.configPath} lists ${diffIds.length} layers, the manifest ${t.layerPaths.length}`);
      }
      // The layers missing are the top of the chain (a layer exists only on its parents).
      const chain = chainIds(diffIds);
      const from = chain.findIndex((c) => !images.layers.get(c));
      if (from >= 0) {
        const applying = performance.now();
        const items: ChainItem[] = diffIds.slice(from).map((diffId, k) => {
          const short = hexOf(diffId).slice(0, 12);
          out({ status: 'Loading layer', progressDetail: {}, id: short });
          return {
            diffId,
            tar: () => openMember(spool, t.layerPaths[from + k]),
            onRegistered: (layer) => {
              log?.debug({ ms: Math.round(performance.now() - applying), bytes: layer.tarSize, layer: layer.chainId }, 'load: layer applied');
              out({ status: 'Loading layer', progressDetail: { current: layer.tarSize, total: layer.tarSize }, id: short });
            },
          };
        });
        await images.layers.registerChain(from > 0 ? chain[from - 1] : null, items);
      }
      const image = await images.db.create(raw);
      emit({ Type: 'image', Action: 'load', Actor: { ID: image.id, Attributes: { name: image.id } } });
      if (t.tags.length === 0) out({ stream: `Loaded image ID: ${image.id}\n` });
      for (const tag of t.tags) {
        const ref = normalize(tag);
        const old = images.refs.get(ref);
        if (old && old !== image.id) {
          out({ stream: `The image ${familiarString(ref)} already exists, renaming the old one with ID ${old} to empty string\n` });
        }
        await images.tag(image.id, tag, emit);
        out({ stream: `Loaded image: ${familiarString(ref)}\n` });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
