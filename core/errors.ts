// Coded errors. One mapper (in the API server) turns a code into dockerd's status code;
// the message is what dockerd would print, so the CLI shows the same text.

export type ErrorCode =
  | 'E_INVALID'        // 400 bad parameter
  | 'E_DENIED'         // 403 forbidden (authorization)
  | 'E_NOT_FOUND'      // 404
  | 'E_CONFLICT'       // 409
  | 'E_NOT_MODIFIED'   // 304
  | 'E_NOT_IMPLEMENTED' // 501 (a driver that cannot do it: logs of the none log driver)
  | 'E_UNAVAILABLE'    // 503 (shutting down, not ready)
  | 'E_SYSTEM'         // 500
  | 'E_CONFIG'         // daemon configuration refused
  | 'E_PLUGIN';        // plugin refused by the loader

const STATUS: Record<ErrorCode, number> = {
  E_INVALID: 400,
  E_DENIED: 403,
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  E_NOT_MODIFIED: 304,
  E_NOT_IMPLEMENTED: 501,
  E_UNAVAILABLE: 503,
  E_SYSTEM: 500,
  E_CONFIG: 500,
  E_PLUGIN: 500,
};

// The daemon runs a bundled copy of the core (dist/bundle/) while a third-party plugin imports
// tsc's copy (dist/core/plugin-api.js): `instanceof` goes by a registry-wide symbol on the
// prototype, not by class identity, so either copy's errors are recognised by the other.
const BERTH_ERROR = Symbol.for('berth.error');
const SKIP_PLUGIN = Symbol.for('berth.skip-plugin');

/** `instanceof` for a branded class; its subclasses keep the ordinary prototype-chain test. */
function branded(cls: Function, brand: symbol): void {
  Object.defineProperty(cls.prototype, brand, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: Function, v: unknown): boolean {
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, v);
      return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[brand] === true;
    },
  });
}

export class BerthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.code = code;
  }
  get statusCode(): number {
    return STATUS[this.code];
  }
}

branded(BerthError, BERTH_ERROR);

export const invalid = (message: string) => new BerthError('E_INVALID', message);
export const notFound = (message: string) => new BerthError('E_NOT_FOUND', message);
export const conflict = (message: string) => new BerthError('E_CONFLICT', message);
export const notModified = (message: string) => new BerthError('E_NOT_MODIFIED', message);
export const denied = (message: string) => new BerthError('E_DENIED', message);
export const notImplemented = (message: string) => new BerthError('E_NOT_IMPLEMENTED', message);
export const unavailable = (message: string) => new BerthError('E_UNAVAILABLE', message);
export const systemError = (message: string, cause?: unknown) => new BerthError('E_SYSTEM', message, { cause });
export const configError = (message: string) => new BerthError('E_CONFIG', message);
export const pluginError = (plugin: string, message: string) => new BerthError('E_PLUGIN', `plugin ${plugin}: ${message}`);

/** The HTTP status for any thrown value: coded errors map, anything else is a 500. */
/** For codes that crossed a boundary as text (a worker thread's error). */
export const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.hasOwn(STATUS, code);

export function statusOf(err: unknown): number {
  return err instanceof BerthError ? err.statusCode : 500;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A plugin throws this from init when it does not apply on this host (containerd's ErrSkipPlugin). */
export class SkipPluginError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SkipPluginError';
  }
}
branded(SkipPluginError, SKIP_PLUGIN);
