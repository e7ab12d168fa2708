// Terminal sizes go to conmon through the `winsz` FIFO in the folder it was started on (the
// bundle for a container, the exec folder for an exec) as "height width\n" (conmon src/ctrl.c).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeTerminalSize(dir: string, height: number, width: number): Promise<void> {
  // O_NONBLOCK: conmon holds the FIFO's read end; never hang if it is gone (ENXIO instead).
  const fh = await open(join(dir, 'winsz'), constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    // One write under PIPE_BUF: conmon reads it whole.
    await fh.write(`${Math.trunc(height)} ${Math.trunc(width)}\n`);
  } finally {
    await fh.close();
  }
}
