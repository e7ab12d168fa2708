// The daemon-wide registry state: configuration, bearer token cache, transfer limits, and
// clients for a registry host's endpoints.
import type { Logger } from 'pino';
import type { AuthConfig } from '../../lib/registry-auth.js';
import { endpointsFor, type Endpoint } from './endpoints.js';
import { LayerDigests } from './layer-digests.js';
import { RegistryClient } from './registry-client.js';
import { Semaphore } from '../../lib/semaphore.js';
import { TokenCache } from './token-cache.js';

export interface RegistryConfig {
  'insecure-registries': string[];
  'registry-mirrors': string[];
  'max-concurrent-downloads': number;
  'max-concurrent-uploads': number;
  'max-download-attempts': number;
  'registry-certs-dir': string;
}

export class Registries {
  readonly tokens = new TokenCache();
  readonly downloads: Semaphore;
  readonly uploads: Semaphore;
  private readonly schemes = new Map<string, string>();

  constructor(readonly config: RegistryConfig, readonly digests: LayerDigests, readonly tmpDir: string, readonly log: Logger) {
    this.downloads = new Semaphore(() => config['max-concurrent-downloads']);
    this.uploads = new Semaphore(() => config['max-concurrent-uploads']);
  }

  get attempts(): number {
    return this.config['max-download-attempts'];
  }

  endpoints(host: string, forPull: boolean): Endpoint[] {
    return endpointsFor(host, { insecure: this.config['insecure-registries'], mirrors: this.config['registry-mirrors'], certsDir: this.config['registry-certs-dir'] }, forPull);
  }

  client(endpoint: Endpoint, auth: AuthConfig | undefined): RegistryClient {
    return new RegistryClient(endpoint, auth, this.tokens, this.log, this.attempts, this.schemes);
  }
}

/** docker.io/library/busybox → ["docker.io", "library/busybox"]. */
export function splitName(name: string): [string, string] {
  const i = name.indexOf('/');
  return [name.slice(0, i), name.slice(i + 1)];
}
