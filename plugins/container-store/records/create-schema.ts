// The container.create payload: the name from the query and the body of POST /containers/create,
// whose schema the build takes from the Engine API spec (lib/engine-api).
import { containerCreateSchema } from '../../../lib/engine-api/container-create.js';
import type { JsonSchema } from '../../../core/plugin-api.js';

/** Built once, so the engine validates with one compiled function (precompiled by the build). */
let payload: JsonSchema | undefined;
export function createPayloadSchema(): JsonSchema {
  payload ??= { type: 'object', properties: { name: { type: 'string' }, config: containerCreateSchema() } };
  return payload;
}

type StrSlice = string | (string | null)[] | null | undefined;
const strSlice = (v: StrSlice) => (typeof v === 'string' ? [v] : v);

/** dockerd's strslice: a string given for Cmd, Entrypoint, Shell or Healthcheck.Test is a list of that one string. */
export function normalizeStrSlices<T extends object>(body: T): T {
  const b = body as { Cmd?: StrSlice; Entrypoint?: StrSlice; Shell?: StrSlice; Healthcheck?: { Test?: StrSlice } | null };
  const out: typeof b = { ...b };
  for (const key of ['Cmd', 'Entrypoint', 'Shell'] as const) if (typeof b[key] === 'string') out[key] = strSlice(b[key]);
  if (b.Healthcheck && typeof b.Healthcheck.Test === 'string') out.Healthcheck = { ...b.Healthcheck, Test: strSlice(b.Healthcheck.Test) };
  return out as T;
}
