// RegistryConfig in /info, as dockerd reports it (docker info: "Insecure Registries", "Registry Mirrors").
import type { RegistryConfig } from './registries.js';

export function registryInfo(c: RegistryConfig): Record<string, unknown> {
  const cidrs = ['127.0.0.0/8', ...c['insecure-registries'].filter((e) => e.includes('/') && !/^https?:/.test(e))];
  const hosts = c['insecure-registries'].filter((e) => !cidrs.includes(e)).map((e) => e.replace(/^https?:\/\//, '').replace(/\/$/, ''));
  const mirrors = c['registry-mirrors'].map((m) => (m.endsWith('/') ? m : `${m}/`));
  const index: Record<string, unknown> = { 'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true } };
  for (const h of hosts) index[h] = { Name: h, Mirrors: [], Secure: false, Official: false };
  return {
    AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [],
    InsecureRegistryCIDRs: cidrs, IndexConfigs: index, Mirrors: mirrors,
  };
}
