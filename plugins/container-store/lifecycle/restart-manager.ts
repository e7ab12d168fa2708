// Restart policies as dockerd applies them (moby's restartmanager): whether an exit restarts the
// container, the back-off before it does (100 ms, doubling, reset after 10 s of running, capped at
// one minute), and the cancellation a user's stop or kill brings.
import { invalid } from '../../../core/plugin-api.js';
import type { Container, ContainerState, HostConfig } from '../records/index.js';

const DEFAULT_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const RESET_AFTER_MS = 10_000;

/** dockerd's checks of HostConfig.RestartPolicy at create, with its messages (400). */
export function validateRestartPolicy(h: HostConfig | undefined): void {
  const p = h?.RestartPolicy;
  const name = p?.Name ?? '';
  const max = p?.MaximumRetryCount ?? 0;
  if (h?.AutoRemove && name !== '' && name !== 'no') throw invalid("can't create 'AutoRemove' container with restart policy");
  switch (name) {
    case '': // older clients send an empty name for "no"
      return;
    case 'no': case 'always': case 'unless-stopped':
      if (max !== 0) throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'${max < 0 ? ' and cannot be negative' : ''}`);
      return;
    case 'on-failure':
      if (max < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
      return;
    default:
      throw invalid(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/** Whether a policy brings a stopped container back (dockerd's ShouldRestart, without the back-off). */
export function policyWantsRestart(c: Container, exitCode: number, manuallyStopped: boolean, restartCount: number): boolean {
  const p = c.HostConfig.RestartPolicy;
  switch (p?.Name) {
    case 'always': return true;
    case 'unless-stopped': return !manuallyStopped;
    case 'on-failure': {
      const max = p.MaximumRetryCount ?? 0;
      return exitCode !== 0 && (max === 0 || restartCount < max);
    }
    default: return false;
  }
}

/** dockerd's SetRestarting: still "running" for stop/rm/wait, with the exit just recorded. */
export function restartingState(s: ContainerState, exit: { exitCode: number; finishedAt: string; oomKilled: boolean }): ContainerState {
  return { ...s, Status: 'restarting', Running: true, Restarting: true, Paused: false, Pid: 0, ExitCode: exit.exitCode, OOMKilled: exit.oomKilled, FinishedAt: exit.finishedAt };
}

export function stoppedState(s: ContainerState): ContainerState {
  return { ...s, Status: 'exited', Running: false, Restarting: false, Paused: false, Pid: 0 };
}

interface Entry {
  delayMs: number;
  canceled: boolean;
  /** Settles a pending back-off: true to restart, false when canceled. */
  pending?: (go: boolean) => void;
  timer?: NodeJS.Timeout;
}

export class RestartManager {
  private readonly entries = new Map<string, Entry>();
  private stopping = false;

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (!e) this.entries.set(id, (e = { delayMs: 0, canceled: false }));
    return e;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  /** Daemon shutdown: no restart from now on, pending back-offs end (their containers stop). */
  shutdown(): void {
    this.stopping = true;
    for (const id of this.entries.keys()) this.cancel(id);
  }

  /**
   * After an exit: the back-off delay in ms if the policy restarts the container, else null.
   * Counts the restart in c.RestartCount.
   */
  onExit(c: Container, exitCode: number, ranMs: number): number | null {
    if (this.stopping) return null;
    const e = this.entry(c.Id);
    if (e.canceled || e.pending) return null;
    if (ranMs >= RESET_AFTER_MS) e.delayMs = 0;
    e.delayMs = e.delayMs === 0 ? DEFAULT_DELAY_MS : Math.min(e.delayMs * 2, MAX_DELAY_MS);
    if (!policyWantsRestart(c, exitCode, Boolean(c.HasBeenManuallyStopped), c.RestartCount)) return null;
    c.RestartCount++;
    return e.delayMs;
  }

  /** Waits out the back-off: resolves true to restart now, false if a stop or kill canceled it. */
  backOff(id: string, delayMs: number): Promise<boolean> {
    const e = this.entry(id);
    if (e.canceled) return Promise.resolve(false);
    return new Promise((resolve) => {
      e.pending = (go) => {
        clearTimeout(e.timer);
        e.pending = undefined;
        e.timer = undefined;
        resolve(go);
      };
      e.timer = setTimeout(() => e.pending?.(true), delayMs);
    });
  }

  isCanceled(id: string): boolean {
    return Boolean(this.entries.get(id)?.canceled);
  }

  /** dockerd's ExitOnNext: the next exit is final, and a pending back-off ends now. */
  cancel(id: string): void {
    const e = this.entry(id);
    e.canceled = true;
    e.pending?.(false);
  }

  /**
   * A user's stop or kill (dockerd's killWithSignal): marks the container manually stopped and,
   * for SIGKILL or its stop signal (any signal when it has none), cancels restarts.
   */
  userSignal(c: Container, signal: string): void {
    const stopSignal = c.Config.StopSignal;
    if (!stopSignal || signal === 'SIGKILL' || sameSignal(signal, stopSignal)) this.cancel(c.Id);
    if (!this.stopping) c.HasBeenManuallyStopped = true;
  }

  /** A user's start (docker start, restart, and starts at daemon start): a fresh manager, as dockerd's ResetRestartManager. */
  reset(c: Container): void {
    this.entries.get(c.Id)?.pending?.(false);
    this.entries.delete(c.Id);
    c.RestartCount = 0;
    c.HasBeenManuallyStopped = false;
  }

  forget(id: string): void {
    this.entries.get(id)?.pending?.(false);
    this.entries.delete(id);
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

function sameSignal(a: string, b: string): boolean {
  const norm = (s: string) => {
    const u = s.toUpperCase();
    if (/^\d+$/.test(u)) return Number(u);
    const name = u.startsWith('SIG') ? u : `SIG${u}`;
    return SIGNAL_NUMBERS[name] ?? name;
  };
  return norm(a) === norm(b);
}
