// The authorization chain: plugins in the configured order, the first deny wins, and a plugin
// that throws, times out or answers garbage denies (fail closed) with a message naming it.
import type { Logger } from 'pino';
import { denied, messageOf } from '../../core/plugin-api.js';
import type { AuthzDecision, AuthzRequest, AuthzResponse, Authorizer } from './service.js';

export interface ChainOptions {
  /** The in-process authorizer or the Docker-protocol bridge for a configured name. */
  resolve: (name: string) => Authorizer | Promise<Authorizer>;
  /** True when `name` is (or may become) a plugin that inspects responses. */
  inspectsResponses: (name: string) => boolean;
  timeoutMs: () => number;
  log: Logger;
}

/** dockerd's wording: the CLI prints it after "Error response from daemon: ". */
export const denialMessage = (plugin: string, msg: string) => `authorization denied by plugin ${plugin}: ${msg}`;
export const failureMessage = (plugin: string, err: string) => `plugin ${plugin} failed with error: ${err}`;

function checkDecision(d: unknown): AuthzDecision {
  if (d && typeof d === 'object' && typeof (d as { allow?: unknown }).allow === 'boolean') {
    const { allow, msg } = d as { allow: boolean; msg?: unknown };
    if (allow) return { allow: true };
    if (msg === undefined || typeof msg === 'string') return { allow: false, msg: msg ?? '' };
  }
  let shown: string;
  try { shown = JSON.stringify(d) ?? String(d); } catch { shown = String(d); }
  throw new Error(`invalid answer ${shown.slice(0, 200)}: expected {allow: boolean, msg?: string}`);
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

/** A synchronous answer is checked at once; only a pending one gets a timer (this runs on every request). */
function ask(timeoutMs: number, call: () => AuthzDecision | Promise<AuthzDecision>): AuthzDecision | Promise<AuthzDecision> {
  const answer = call();
  return isThenable(answer) ? within(timeoutMs, answer) : checkDecision(answer);
}

async function within(timeoutMs: number, answer: PromiseLike<unknown>): Promise<AuthzDecision> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return checkDecision(await Promise.race([answer, expired]));
  } finally {
    clearTimeout(timer);
  }
}

export class AuthzChain {
  private names: string[] = [];

  constructor(private readonly o: ChainOptions) {}

  /** Order kept, duplicates dropped (as dockerd). */
  setNames(names: readonly string[]): void {
    this.names = [...new Set(names)];
  }

  list(): string[] {
    return [...this.names];
  }

  get active(): boolean {
    return this.names.length > 0;
  }

  wantsResponse(): boolean {
    return this.names.some((n) => this.o.inspectsResponses(n));
  }

  authorizeRequest(req: AuthzRequest): Promise<void> {
    return this.run('request', req, (a) => a.authorizeRequest(req));
  }

  authorizeResponse(req: AuthzRequest, res: AuthzResponse): Promise<void> {
    return this.run('response', req, (a) => (a.authorizeResponse ? a.authorizeResponse(req, res) : { allow: true }), res.statusCode);
  }

  private async run(stage: string, req: AuthzRequest, call: (a: Authorizer) => AuthzDecision | Promise<AuthzDecision>, status?: number): Promise<void> {
    // A reload may change the list while a request is in flight: each request keeps the chain it started with.
    for (const name of this.names) {
      let decision: AuthzDecision;
      try {
        const found = this.o.resolve(name);
        const authorizer = isThenable(found) ? await found : found;
        const answer = ask(this.o.timeoutMs(), () => call(authorizer));
        decision = isThenable(answer) ? await answer : answer;
      } catch (err) {
        const message = failureMessage(name, messageOf(err));
        this.log(stage, name, req, message, status);
        throw denied(message);
      }
      if (!decision.allow) {
        const message = denialMessage(name, decision.msg);
        this.log(stage, name, req, message, status);
        throw denied(message);
      }
    }
  }

  private log(stage: string, plugin: string, req: AuthzRequest, message: string, status?: number): void {
    this.o.log.warn({
      stage, plugin, user: req.user, method: req.method, uri: req.uri, ...(status !== undefined ? { status } : {}),
    }, message);
  }
}
