// The registry jobs: image.pull, image.push, registry.login, registry.search.
import type { PluginContext } from '../../core/plugin-api.js';
import type { Images } from '../image-store/index.js';
import { parseReference } from '../../lib/image-reference.js';
import type { AuthConfig } from '../../lib/registry-auth.js';
import { login } from './login.js';
import { Puller, pullReference, type PullPayload } from './pull-image.js';
import { Pusher, pushTargets, type PushPayload } from './push-image.js';
import { splitName, type Registries } from './registries.js';
import { search, type SearchResult } from './search.js';

const authSchema = {
  type: 'object',
  properties: {
    username: { type: 'string' }, password: { type: 'string' }, auth: { type: 'string' }, serveraddress: { type: 'string' },
    identitytoken: { type: 'string' }, registrytoken: { type: 'string' },
  },
};

export function registerRegistryJobs(ctx: PluginContext, reg: Registries, store: () => Images): void {
  const e = ctx.engine;
  e.register<PullPayload, void>('image.pull', {
    description: 'pulls an image from a registry (docker pull)',
    schema: {
      type: 'object', required: ['fromImage'],
      properties: { fromImage: { type: 'string', minLength: 1 }, tag: { type: 'string' }, platform: { type: 'string' }, auth: authSchema },
    },
    run: async (job) => {
      const ref = pullReference(job.payload.fromImage, job.payload.tag);
      const puller = new Puller(reg, store(), job.payload, ref);
      const resolved = await puller.resolve(job.signal);
      job.begin();
      await puller.pull(resolved, (m) => job.stdout.write(`${JSON.stringify(m)}\n`), (ev) => job.emit(ev), job.signal);
    },
  });
  e.register<PushPayload, void>('image.push', {
    description: 'pushes an image to a registry (docker push)',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, tag: { type: 'string' }, auth: authSchema } },
    run: async (job) => {
      const targets = pushTargets(store(), job.payload);
      const [host] = splitName(parseReference(job.payload.name).name);
      const client = reg.client(reg.endpoints(host, false)[0], job.payload.auth);
      job.begin();
      await new Pusher(reg, store(), client, targets[0].ref.name).push(targets, (m) => job.stdout.write(`${JSON.stringify(m)}\n`), (ev) => job.emit(ev), job.signal);
    },
  });
  e.register<AuthConfig, { IdentityToken: string; Status: string }>('registry.login', {
    description: 'checks registry credentials (docker login)',
    schema: authSchema,
    run: (job) => login(reg, job.payload ?? {}, job.signal),
  });
  e.register<{ term: string; limit?: number; filters?: Record<string, string[]>; auth?: AuthConfig }, SearchResult[]>('registry.search', {
    description: 'searches a registry (docker search)',
    schema: { type: 'object', required: ['term'], properties: { term: { type: 'string', minLength: 1 }, limit: { type: 'integer', minimum: 1, maximum: 100 }, filters: { type: 'object' }, auth: authSchema } },
    run: (job) => search(reg, job.payload.term, job.payload.limit ?? 25, job.payload.filters ?? {}, job.payload.auth, job.signal),
  });
}
