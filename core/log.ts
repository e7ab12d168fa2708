// pino JSON lines on stderr, as dockerd logs; children per plugin and per job.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
}
