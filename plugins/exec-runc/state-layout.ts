// Where the driver keeps its state, under <exec-root>/runtimes/<name>: the runtime's own root,
// conmon's exit files and attach-socket links, and a folder per container (its conmon pid,
// persist dir with the oom marker, exec sessions, and what create was asked).
import { join } from 'node:path';

export interface ContainerMeta {
  bundle: string;
  logPath: string;
  tty: boolean;
  openStdin: boolean;
  cgroupsPath?: string;
}

export class StateLayout {
  constructor(readonly root: string) {}
  get runtimeRoot() { return join(this.root, 'runtime'); }
  get exitDir() { return join(this.root, 'exits'); }
  get socketDir() { return join(this.root, 'sockets'); }
  get containersDir() { return join(this.root, 'containers'); }
  container(id: string) { return join(this.containersDir, id); }
  meta(id: string) { return join(this.container(id), 'meta.json'); }
  conmonPid(id: string) { return join(this.container(id), 'conmon.pid'); }
  containerPid(id: string) { return join(this.container(id), 'container.pid'); }
  runtimeLog(id: string) { return join(this.container(id), 'runtime.log'); }
  persistDir(id: string) { return join(this.container(id), 'persist'); }
  exec(id: string, execId: string) { return join(this.container(id), 'exec', execId); }
}
