// The certificate authorities the daemon's TLS clients trust (registries, build contexts, plugins).
// Node parses NODE_EXTRA_CA_CERTS as it starts, every certificate of it, in every process: 30-40 ms
// of each daemon start with a system bundle (220 KB) measured here. bin/berthd hands the file to
// the daemon as BERTH_EXTRA_CA_CERTS instead, read here when a TLS client first needs it: the same
// trust (node's roots extended by the file), paid for only by a daemon that makes TLS connections.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// node:tls loads with the first TLS client, not with the daemon.
const require = createRequire(import.meta.url);

let extended: string[] | null | undefined;

/** Node's roots and BERTH_EXTRA_CA_CERTS's authorities, or undefined when node's default store applies. */
export function defaultTrust(): string[] | undefined {
  if (extended === undefined) {
    const file = process.env.BERTH_EXTRA_CA_CERTS;
    extended = null;
    if (file) {
      try {
        extended = [...(require('node:tls') as typeof import('node:tls')).rootCertificates, readFileSync(file, 'utf8')];
      } catch (err) {
        // As node does with NODE_EXTRA_CA_CERTS: say so once, and go on with its roots.
        process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
      }
    }
  }
  return extended ?? undefined;
}
