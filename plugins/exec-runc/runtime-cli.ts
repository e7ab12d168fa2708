// The OCI runtime's command line (runc and crun share it), always on the driver's own --root so
// Berth's containers never mix with another engine's.
import { readFile } from 'node:fs/promises';
import { runCommand } from '../../lib/host-cmd.js';

export class RuntimeCli {
  constructor(readonly path: string, readonly root: string) {}

  run(args: string[]): Promise<string> {
    return runCommand(this.path, ['--root', this.root, ...args]);
  }

  /** The runtime's own error text: its last error-level line of a --log-format json log. */
  static async lastError(logFile: string): Promise<string | undefined> {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    let found: string | undefined;
    for (const line of text.split('\n')) {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string };
        if (entry.level === 'error' && entry.msg) found = entry.msg;
      } catch {
        if (line.trim()) found = line.trim();
      }
    }
    return found;
  }
}

/** "runc version 1.1.5\ncommit: abc" (runc) or "crun version 1.8\ncommit: abc" (crun). */
export function parseVersion(out: string): { version: string; commit: string } {
  return {
    version: /version\s+(\S+)/.exec(out)?.[1] ?? 'unknown',
    commit: /commit:\s*(\S+)/.exec(out)?.[1] ?? 'unknown',
  };
}
