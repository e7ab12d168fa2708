// Builds docker-archives (the `docker save` layout) for the image benchmarks, in code: a small
// ustar writer, layers of random-content files, image configs whose rootfs.diff_ids are the
// sha256 of each layer tar, and manifest.json. Nothing is downloaded.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const BLOCK = 512;
const MTIME = Math.floor(Date.UTC(2024, 0, 1) / 1000);

function octal(value: number, width: number): string {
  // width - 1 octal digits and a NUL, as ustar wants them.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** One ustar header block for a file ('0') or directory ('5') owned by root. */
function header(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(MTIME, 12), 136, 'ascii');
  h.fill(' ', 148, 156); // checksum counted as spaces
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** Appends tar entries to an in-memory list of chunks. */
class TarBuffer {
  private chunks: Buffer[] = [];
  dir(name: string): void {
    this.chunks.push(header(name.endsWith('/') ? name : `${name}/`, 0, '5', 0o755));
  }
  file(name: string, data: Buffer, mode = 0o644): void {
    this.chunks.push(header(name, data.length, '0', mode), data, padding(data.length));
  }
  finish(): Buffer {
    return Buffer.concat([...this.chunks, Buffer.alloc(2 * BLOCK)]);
  }
}

/** Appends tar entries straight to a file, so the outer archive is never held in memory. */
class TarFile {
  private fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w', 0o600);
  }
  private write(b: Buffer): void {
    for (let off = 0; off < b.length;) off += writeSync(this.fd, b, off);
  }
  dir(name: string): void {
    this.write(header(`${name}/`, 0, '5', 0o755));
  }
  file(name: string, data: Buffer | string): void {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    this.write(header(name, b.length, '0', 0o644));
    this.write(b);
    this.write(padding(b.length));
  }
  finish(): number {
    this.write(Buffer.alloc(2 * BLOCK));
    closeSync(this.fd);
    return statSync(this.path).size;
  }
}

export interface LayerSpec {
  /** Top folder inside the layer, so layers add files rather than replace each other's. */
  root: string;
  folders: number;
  filesPerFolder: number;
  /** Approximate total of file contents. */
  bytes: number;
}

/** An uncompressed layer tar of random-content files of varied sizes spread over folders. */
export function makeLayer(spec: LayerSpec): Buffer {
  const tar = new TarBuffer();
  const files = spec.folders * spec.filesPerFolder;
  const mean = spec.bytes / files;
  tar.dir(spec.root);
  let n = 0;
  for (let f = 0; f < spec.folders; f++) {
    const folder = `${spec.root}/d${String(f).padStart(2, '0')}`;
    tar.dir(folder);
    for (let i = 0; i < spec.filesPerFolder; i++, n++) {
      // Sizes from 0.5 to 1.5 times the mean, evenly spread, so the total stays close to bytes.
      const size = Math.max(1, Math.round(mean * (0.5 + ((n * 37) % files) / files)));
      tar.file(`${folder}/f${String(i).padStart(3, '0')}.bin`, randomFillSync(Buffer.allocUnsafe(size)));
    }
  }
  return tar.finish();
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface ImageSpec {
  tag: string;
  /** Indexes into the archive's layer list, bottom first. */
  layers: number[];
}

const created = new Date(MTIME * 1000).toISOString();

/** An image config (JSON text) whose rootfs lists the layers' diff IDs (sha256 of each uncompressed layer tar), bottom first. */
export function imageConfig(tag: string, layers: { index: number; diffId: string }[]): string {
  return JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'], Labels: { 'bench.tag': tag } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l, n) => ({ created, created_by: `/bin/sh -c #(nop) ADD layer ${l.index} (${n === 0 ? 'base' : 'on top'})` })),
  });
}

export interface Archive {
  path: string;
  bytes: number;
  tags: string[];
}

/**
 * Writes a docker-archive: each layer once (as `<id>/layer.tar`, `<id>/VERSION`, `<id>/json`),
 * one `<configsha>.json` per image, manifest.json and repositories. Images may share layers.
 */
export function writeDockerArchive(path: string, layers: Buffer[], images: ImageSpec[]): Archive {
  const diffIds = layers.map((l) => `sha256:${sha256(l)}`);
  const tar = new TarFile(path);
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const img of images) {
    // v1 layer ids chain like docker's: they depend on the layers below.
    let parent = '';
    const layerPaths: string[] = [];
    for (const i of img.layers) {
      const id = sha256(`${parent} ${diffIds[i]}`);
      if (!written.has(id)) {
        written.add(id);
        tar.dir(id);
        tar.file(`${id}/VERSION`, '1.0');
        tar.file(`${id}/json`, JSON.stringify({
          id, ...(parent ? { parent } : {}), created, os: 'linux',
          container_config: { Hostname: '', Domainname: '', User: '', Env: null, Cmd: null, Image: '' },
        }));
        tar.file(`${id}/layer.tar`, layers[i]);
      }
      layerPaths.push(`${id}/layer.tar`);
      parent = id;
    }
    const config = imageConfig(img.tag, img.layers.map((i) => ({ index: i, diffId: diffIds[i] })));
    const configName = `${sha256(config)}.json`;
    if (!written.has(configName)) {
      written.add(configName);
      tar.file(configName, config);
    }
    manifest.push({ Config: configName, RepoTags: [img.tag], Layers: layerPaths });
    const colon = img.tag.lastIndexOf(':');
    (repositories[img.tag.slice(0, colon)] ??= {})[img.tag.slice(colon + 1)] = parent;
  }
  tar.file('manifest.json', JSON.stringify(manifest));
  tar.file('repositories', JSON.stringify(repositories));
  return { path, bytes: tar.finish(), tags: images.map((i) => i.tag) };
}

export const mb = (n: number) => n * 1_000_000;

/** ~100 MB: five layers of ~20 MB (320 random-content files in 16 folders each); the load and pull benchmarks' image. */
export const BIG_IMAGE_LAYERS: LayerSpec[] = Array.from({ length: 5 }, (_, i) => ({ root: `layer${i}`, folders: 16, filesPerFolder: 20, bytes: mb(20) }));

/** One image bench/load:1 of BIG_IMAGE_LAYERS. */
export function writeLoadArchive(dir: string): Archive {
  const layers = BIG_IMAGE_LAYERS.map(makeLayer);
  return writeDockerArchive(join(dir, 'load.tar'), layers, [{ tag: 'bench/load:1', layers: [0, 1, 2, 3, 4] }]);
}

/** A ~20 MB base layer and ten images bench/share:0..9, each adding its own ~100 KB layer. */
export function writeShareArchive(dir: string): Archive {
  const base = makeLayer({ root: 'base', folders: 16, filesPerFolder: 20, bytes: mb(20) });
  const tops = Array.from({ length: 10 }, (_, i) => makeLayer({ root: `app${i}`, folders: 2, filesPerFolder: 5, bytes: 100_000 }));
  const images = tops.map((_, i) => ({ tag: `bench/share:${i}`, layers: [0, i + 1] }));
  return writeDockerArchive(join(dir, 'share.tar'), [base, ...tops], images);
}
