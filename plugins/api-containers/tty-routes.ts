// Terminal routes: resizing a container's or an exec's terminal, and the detach keys of attach
// and exec start.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiRequest, ApiService } from '../api-server/index.js';
import { parseDetachKeys } from '../container-store/index.js';

/** strconv.Atoi as dockerd parses h and w, with its error text. */
function atoi(ctx: PluginContext, v: unknown): number {
  const s = typeof v === 'string' ? v : '';
  if (!/^[+-]?\d+$/.test(s)) throw ctx.errors.invalid(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  // A terminal's rows and columns are 16-bit.
  if (n < 0 || n > 65535) throw ctx.errors.invalid(`invalid terminal size ${s}: must be between 0 and 65535`);
  return n;
}

/** The detachKeys query parameter as bytes (undefined: the default), or dockerd's 400. */
export function detachKeysParam(ctx: PluginContext, req: ApiRequest): Buffer | undefined {
  const raw = req.query.detachKeys;
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    return parseDetachKeys(raw);
  } catch {
    throw ctx.errors.invalid(`Invalid detach keys (${raw}) provided`);
  }
}

export function mountTtyRoutes(ctx: PluginContext, api: ApiService): void {
  const size = (req: ApiRequest) => ({ height: atoi(ctx, req.query.h), width: atoi(ctx, req.query.w) });
  api.route('post', '/containers/:id/resize', async (req, res) => {
    await ctx.engine.run('container.resize', { name: req.params.id, ...size(req) }, { origin: api.origin(req) });
    res.statusCode = 200;
    res.end();
  });
  api.route('post', '/exec/:id/resize', async (req, res) => {
    await ctx.engine.run('exec.resize', { id: req.params.id, ...size(req) }, { origin: api.origin(req) });
    res.statusCode = 200;
    res.end();
  });
}
