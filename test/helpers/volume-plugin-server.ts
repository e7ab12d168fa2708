// A Docker volume plugin written for tests: speaks the VolumeDriver protocol (moby's
// volume/drivers proxy shapes) on a unix socket or a loopback port, and backs each volume with a
// real directory under `root`. Driver option fail=<message> makes Create answer that Err,
// mountpoint=<text> makes Mount answer that Mountpoint, and `failNext` makes the next call of an
// operation answer an Err.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDockerPluginServer, type DockerPluginServer } from './docker-plugin-server.js';

export interface TestVolume {
  name: string;
  opts: Record<string, string>;
  dir: string;
  createdAt: string;
  /** The IDs (container ids) that mounted it and did not unmount yet. */
  mountedBy: Set<string>;
}

export interface TestVolumePlugin extends DockerPluginServer {
  volumes: Map<string, TestVolume>;
  /** Operation ("Create", "Mount" …) to the Err its next call answers. */
  failNext: Map<string, string>;
  /** Calls of VolumeDriver.<op> so far. */
  ops: () => string[];
}

export async function startTestVolumePlugin(listen: { socket: string } | { tcp: true }, root: string, scope = 'local'): Promise<TestVolumePlugin> {
  const volumes = new Map<string, TestVolume>();
  const failNext = new Map<string, string>();
  const describe = (v: TestVolume, withStatus: boolean) => ({
    Name: v.name,
    Mountpoint: v.mountedBy.size ? v.dir : '',
    CreatedAt: v.createdAt,
    ...(withStatus ? { Status: { backing: v.dir, mounts: v.mountedBy.size } } : {}),
  });
  const answer = (op: string, doc: Record<string, any>): unknown => {
    const injected = failNext.get(op);
    if (injected !== undefined) {
      failNext.delete(op);
      return { Err: injected };
    }
    const v = typeof doc.Name === 'string' ? volumes.get(doc.Name) : undefined;
    const missing = { Err: `volume ${doc.Name} not found` };
    switch (op) {
      case 'Create': {
        if (doc.Opts?.fail) return { Err: doc.Opts.fail };
        if (!v) {
          const dir = join(root, doc.Name);
          mkdirSync(dir, { recursive: true });
          volumes.set(doc.Name, { name: doc.Name, opts: doc.Opts ?? {}, dir, createdAt: new Date().toISOString(), mountedBy: new Set() });
        }
        return { Err: '' };
      }
      case 'Remove':
        if (!v) return missing;
        if (v.mountedBy.size) return { Err: `volume ${v.name} is mounted by ${[...v.mountedBy].join(', ')}` };
        rmSync(v.dir, { recursive: true, force: true });
        volumes.delete(v.name);
        return { Err: '' };
      case 'Mount':
        if (!v) return missing;
        v.mountedBy.add(String(doc.ID));
        return { Mountpoint: v.opts.mountpoint ?? v.dir, Err: '' };
      case 'Unmount':
        if (!v) return missing;
        v.mountedBy.delete(String(doc.ID));
        return { Err: '' };
      case 'Path':
        return v ? { Mountpoint: v.mountedBy.size ? v.dir : '', Err: '' } : missing;
      case 'Get':
        return v ? { Volume: describe(v, true), Err: '' } : missing;
      case 'List':
        return { Volumes: [...volumes.values()].map((x) => describe(x, false)), Err: '' };
      case 'Capabilities':
        return { Capabilities: { Scope: scope } };
      default:
        return undefined;
    }
  };
  const server = await startDockerPluginServer(listen, ['VolumeDriver'], (url, doc) =>
    url.startsWith('/VolumeDriver.') ? answer(url.slice('/VolumeDriver.'.length), doc) : undefined);
  return {
    ...server,
    volumes,
    failNext,
    ops: () => server.calls.filter((c) => c.method.startsWith('/VolumeDriver.')).map((c) => c.method.slice('/VolumeDriver.'.length)),
  };
}
