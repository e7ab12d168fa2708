// The image jobs: every image operation the API (or another plugin) asks for runs as one of these.
import { mkdirAll } from '../../lib/mkdir-all.js';
import { TurnCoalescer } from '../../lib/turn-coalescer.js';
import { pipeline } from 'node:stream/promises';
import type { PluginContext } from '../../core/plugin-api.js';
import { Images } from './images.js';
import { importImage, type ImportPayload } from './import-image.js';
import { loadImages } from './load-images.js';
import { planSave, saveImages } from './save-images.js';
import { imageHistory, inspectImage, listImages } from './views.js';

const nameSchema = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } };
/** Filters as the API server parses them: each key a list of values. */
const filtersSchema = { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } };

export function registerImageJobs(ctx: PluginContext, store: () => Images, driverName: () => string, loadTmp: () => string): void {
  const e = ctx.engine;
  e.register<ImportPayload, string>('image.import', {
    description: 'imports a root file system tar as an image (docker import)',
    schema: {
      type: 'object', required: ['fromSrc'],
      properties: {
        fromSrc: { type: 'string', minLength: 1 }, repo: { type: 'string' }, tag: { type: 'string' },
        message: { type: 'string' }, changes: { type: 'array', items: { type: 'string' } }, platform: { type: 'string' },
      },
    },
    run: async (job) => {
      job.begin();
      const id = await importImage(store(), job.payload, job.stdin, ctx.daemon.version, (ev) => job.emit(ev));
      job.stdout.write(`${JSON.stringify({ status: id })}\n`);
      return id;
    },
  });
  e.register<{ quiet?: boolean }, void>('image.load', {
    description: 'loads images from a docker save or OCI archive on stdin (docker load)',
    schema: { type: 'object', properties: { quiet: { type: 'boolean' } } },
    run: async (job) => {
      if (!job.stdin) throw ctx.errors.invalid('docker load needs an archive in the request body');
      job.begin();
      const quiet = job.payload?.quiet ?? false;
      await mkdirAll(loadTmp(), 0o700);
      await loadImages(store(), job.stdin, loadTmp(), (msg) => {
        if (!quiet || 'stream' in msg) job.stdout.write(`${JSON.stringify(msg)}\n`);
      }, (ev) => job.emit(ev), job.log);
    },
  });
  e.register<{ names: string[] }, void>('image.save', {
    description: 'writes images as a docker-archive tar on stdout (docker save)',
    schema: { type: 'object', required: ['names'], properties: { names: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } } },
    run: async (job) => {
      const items = planSave(store(), job.payload.names);
      job.begin();
      await pipeline(saveImages(store(), items), job.stdout, { end: false });
      for (const { image } of items) job.emit({ Type: 'image', Action: 'save', Actor: { ID: image.id, Attributes: { name: image.id } } });
    },
  });
  // Lists asked for in the same turn, with the same payload, are made once (lib/turn-coalescer).
  const lists = new TurnCoalescer<unknown[]>();
  e.register<{ all?: boolean; filters?: Record<string, string[]>; sharedSize?: boolean }, unknown[]>('image.list', {
    description: 'lists images (docker images)',
    schema: { type: 'object', properties: { all: { type: 'boolean' }, filters: filtersSchema, sharedSize: { type: 'boolean' } } },
    run: (job) => lists.run(JSON.stringify(job.payload ?? {}), () =>
      listImages(store(), Boolean(job.payload?.all), job.payload?.filters ?? {}, Boolean(job.payload?.sharedSize))),
  });
  e.register<{ name: string }, unknown>('image.inspect', {
    description: 'an image in detail (docker image inspect)',
    schema: nameSchema,
    run: (job) => inspectImage(store(), store().resolve(job.payload.name), driverName()),
  });
  e.register<{ name: string }, unknown>('image.history', {
    description: 'the layers of an image (docker history)',
    schema: nameSchema,
    run: (job) => imageHistory(store(), store().resolve(job.payload.name)),
  });
  e.register<{ name: string; repo: string; tag?: string }, void>('image.tag', {
    description: 'adds a reference to an image (docker tag)',
    schema: { type: 'object', required: ['name', 'repo'], properties: { name: { type: 'string', minLength: 1 }, repo: { type: 'string' }, tag: { type: 'string' } } },
    run: async (job) => {
      const images = store();
      const image = images.resolve(job.payload.name);
      await images.tag(image.id, Images.joinRepoTag(job.payload.repo, job.payload.tag), (ev) => job.emit(ev));
    },
  });
  e.register<{ name: string; force?: boolean; noprune?: boolean }, unknown>('image.delete', {
    description: 'untags and removes an image (docker rmi)',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, force: { type: 'boolean' }, noprune: { type: 'boolean' } } },
    run: (job) => store().delete(job.payload.name, Boolean(job.payload.force), !job.payload.noprune, (ev) => job.emit(ev)),
  });
  e.register<{ filters?: Record<string, string[]> }, unknown>('image.prune', {
    description: 'removes unused images (docker image prune)',
    schema: { type: 'object', properties: { filters: filtersSchema } },
    run: (job) => {
      const f = job.payload?.filters ?? {};
      const danglingOnly = !(f.dangling ?? []).some((v) => v === 'false' || v === '0');
      const labels = f.label ?? [];
      const until = f.until?.[0] ? Date.parse(f.until[0]) || Number(f.until[0]) * 1000 : undefined;
      return store().prune(!danglingOnly, (image) => {
        const l = image.config.config?.Labels ?? {};
        if (!labels.every((x) => (x.includes('=') ? l[x.split('=')[0]] === x.slice(x.indexOf('=') + 1) : x in l))) return false;
        return until === undefined || Date.parse(image.config.created ?? '') < until;
      }, (ev) => job.emit(ev));
    },
  });
}
