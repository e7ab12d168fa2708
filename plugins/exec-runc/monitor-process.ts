// Stops a container's conmon by the pid it recorded, after checking the pid is still that conmon
// (pids are reused): never signal a process that is not ours.
import { readFile } from 'node:fs/promises';

const STOP_WAIT_MS = 3000;

async function isOurConmon(pid: number, id: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const args = cmdline.split('\0');
  return args.some((a) => a.endsWith('conmon')) && args.includes(id);
}

/** Whether the container's conmon (named in its pid file) still runs: only it records the exit. */
export async function monitorRunning(pidFile: string, id: string): Promise<boolean> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  return Boolean(pid) && isOurConmon(pid, id);
}

export async function stopMonitor(pidFile: string, id: string): Promise<void> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!pid || !(await isOurConmon(pid, id))) return;
  // The container is gone (runtime delete --force ran first): conmon normally exits on its own.
  const deadline = Date.now() + STOP_WAIT_MS;
  // It is usually gone within milliseconds of the exit file: look often at first (this wait is on
  // the path of every `docker run --rm`), then every 50 ms.
  for (let i = 0; Date.now() < deadline && (await isOurConmon(pid, id)); i++) await new Promise((r) => setTimeout(r, i < 40 ? 2 : 50));
  if (await isOurConmon(pid, id)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
