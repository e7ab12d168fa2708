// Refuse clearly where the daemon cannot work.
import { configError } from '../errors.js';

export function checkHost(platform = process.platform, uid = process.getuid?.() ?? -1): void {
  if (platform !== 'linux') throw configError(`berthd runs only on Linux (this is ${platform})`);
  if (uid !== 0) {
    throw configError(`berthd needs to be started as root (running as uid ${uid}); rootless mode does not exist yet`);
  }
}
