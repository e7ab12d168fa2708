// The container route table: each route turns the request into a container job.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiRequest, ApiService } from '../api-server/index.js';
import type { CreatePayload } from '../container-store/index.js';
import { frame, SYSERR } from '../../lib/stdcopy.js';
import type { ContainersService } from '../container-store/index.js';
import { CONTAINER_LIST_FILTERS } from '../container-store/index.js';
import { detachKeysParam } from './tty-routes.js';

const truthy = (v: unknown) => v === '1' || v === 'true' || v === 'True';
const CREATE = 'POST /containers/create';
const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed'];
const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

export function mountContainerRoutes(ctx: PluginContext, api: ApiService): void {
  const run = <R>(req: ApiRequest, name: string, payload: unknown) => ctx.engine.run<R>(name, payload, { origin: api.origin(req) });
  const containers = () => ctx.services.get<ContainersService>('containers');
  /** From API 1.42 a stream says whether it is framed; older versions: undefined (the caller's default). */
  const streamType = (req: ApiRequest, tty: boolean | undefined) =>
    (api.since(req, 'stream-content-type') && tty !== undefined ? (tty ? RAW : MUX) : undefined);

  api.route('post', '/containers/create', async (req, res) => {
    const raw = await api.readJson(req);
    api.checkBody(req, 'container-create', raw);
    const body = api.adaptRequest(req, CREATE, raw);
    api.refuseUnsupported(CREATE, body);
    const name = typeof req.query.name === 'string' && req.query.name ? req.query.name : undefined;
    const payload: CreatePayload = { ...(name ? { name } : {}), config: (body ?? {}) as CreatePayload['config'] };
    api.sendJSON(res, 201, await run(req, 'container.create', payload));
  });

  api.route('get', '/containers/json', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, CONTAINER_LIST_FILTERS);
    const limit = Number(req.query.limit ?? 0) || undefined;
    api.sendJSON(res, 200, await run(req, 'container.list', { all: truthy(req.query.all), size: truthy(req.query.size), filters, ...(limit ? { limit } : {}) }));
  });

  api.route('get', '/containers/:id/json', async (req, res) => {
    const view = await run(req, 'container.inspect', { name: req.params.id, size: truthy(req.query.size) });
    api.sendJSON(res, 200, api.adaptResponse(req, 'GET /containers/{id}/json', view));
  });

  api.route('post', '/containers/:id/rename', async (req, res) => {
    await run(req, 'container.rename', { name: req.params.id, newName: typeof req.query.name === 'string' ? req.query.name : '' });
    res.statusCode = 204;
    res.end();
  });

  api.route('delete', '/containers/:id', async (req, res) => {
    // docker rm --link NAME: a link's name is "parent/alias" (dockerd's link names are container names).
    if (truthy(req.query.link)) await run(req, 'network.unlink', { name: req.params.id });
    else await run(req, 'container.delete', { name: req.params.id, force: truthy(req.query.force), volumes: truthy(req.query.v) });
    res.statusCode = 204;
    res.end();
  });

  // A link's name in the path unencoded: /containers/parent/alias?link=1.
  api.route('delete', '/containers/:id/:link', async (req, res) => {
    if (!truthy(req.query.link)) throw ctx.errors.notFound(`page not found`);
    await run(req, 'network.unlink', { name: `${req.params.id}/${req.params.link}` });
    res.statusCode = 204;
    res.end();
  });

  const noContent = (res: Parameters<Parameters<ApiService['route']>[2]>[1]) => { res.statusCode = 204; res.end(); };
  const seconds = (v: unknown) => (typeof v === 'string' && v !== '' ? Number(v) : undefined);
  /** API 1.42's ?signal= on stop and restart; older clients' is ignored, as dockerd does. */
  const stopSignal = (req: ApiRequest) =>
    (api.since(req, 'stop-signal') && typeof req.query.signal === 'string' && req.query.signal ? { signal: req.query.signal } : {});

  api.route('post', '/containers/:id/start', async (req, res) => {
    await run(req, 'container.start', { name: req.params.id });
    noContent(res);
  });
  api.route('post', '/containers/:id/stop', async (req, res) => {
    const t = seconds(req.query.t);
    await run(req, 'container.stop', { name: req.params.id, ...(t !== undefined ? { t } : {}), ...stopSignal(req) });
    noContent(res);
  });
  api.route('post', '/containers/:id/restart', async (req, res) => {
    const t = seconds(req.query.t);
    await run(req, 'container.restart', { name: req.params.id, ...(t !== undefined ? { t } : {}), ...stopSignal(req) });
    noContent(res);
  });
  api.route('post', '/containers/:id/kill', async (req, res) => {
    await run(req, 'container.kill', { name: req.params.id, ...(typeof req.query.signal === 'string' ? { signal: req.query.signal } : {}) });
    noContent(res);
  });
  for (const action of ['pause', 'unpause'] as const) {
    api.route('post', `/containers/:id/${action}`, async (req, res) => {
      await run(req, `container.${action}`, { name: req.params.id });
      noContent(res);
    });
  }
  api.route('post', '/containers/:id/wait', async (req, res) => {
    let condition = typeof req.query.condition === 'string' && req.query.condition ? req.query.condition : 'not-running';
    if (!WAIT_CONDITIONS.includes(condition)) {
      if (api.since(req, 'wait-condition-400')) throw ctx.errors.invalid(`invalid condition: ${JSON.stringify(condition)}`);
      condition = 'not-running';
    }
    await run(req, 'container.inspect', { name: req.params.id }); // a 404 before the stream begins
    // Headers go out at once: the CLI waits for them before it starts the container.
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.flushHeaders();
    let result: unknown;
    try {
      result = await ctx.engine.run('container.wait', { name: req.params.id, condition }, { origin: api.origin(req), signal: api.clientGone(req, res) });
    } catch (err) {
      result = { StatusCode: -1, Error: { Message: (err as Error).message } };
    }
    res.end(`${JSON.stringify(result)}\n`);
  });
  api.route('get', '/containers/:id/logs', async (req, res) => {
    const q = req.query;
    const num = (v: unknown) => (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined);
    const tail = typeof q.tail === 'string' && q.tail !== 'all' ? num(q.tail) : undefined;
    const payload = {
      name: req.params.id, stdout: truthy(q.stdout), stderr: truthy(q.stderr), follow: truthy(q.follow), timestamps: truthy(q.timestamps),
      ...(num(q.since) ? { since: num(q.since) } : {}), ...(num(q.until) ? { until: num(q.until) } : {}), ...(tail !== undefined ? { tail } : {}),
    };
    const job = ctx.engine.job('container.logs', payload, { origin: api.origin(req), signal: api.clientGone(req, res) });
    const tty = api.since(req, 'stream-content-type') ? Boolean(containers().store().get(req.params.id).Config.Tty) : undefined;
    await api.streamJob(job, res, streamType(req, tty) ?? '');
  });

  api.hijack('post', '/containers/:id/attach', async (req, conn) => {
    try {
      const q = req.query;
      const detachKeys = detachKeysParam(ctx, req);
      const c = containers().store().get(req.params.id);
      const socket = conn.upgrade(streamType(req, Boolean(c.Config.Tty)) ?? RAW);
      await ctx.engine.run('container.attach', { name: c.Id, stdin: truthy(q.stdin), stdout: truthy(q.stdout), stderr: truthy(q.stderr), socket, detachKeys }, { origin: api.origin(req) });
    } catch (err) {
      conn.fail(err);
    }
  });

  api.route('post', '/containers/:id/exec', async (req, res) => {
    const raw = await api.readJson(req);
    api.checkBody(req, 'exec-create', raw);
    const config = api.adaptRequest(req, 'POST /containers/{id}/exec', raw ?? {});
    api.sendJSON(res, 201, await run(req, 'exec.create', { name: req.params.id, config }));
  });
  api.hijack('post', '/exec/:id/start', async (req, conn) => {
    try {
      let body: { Detach?: boolean; Tty?: boolean } = {};
      try {
        if (conn.body.length) body = JSON.parse(conn.body.toString('utf8'));
      } catch (err) {
        throw ctx.errors.invalid(`invalid JSON body: ${(err as Error).message}`);
      }
      api.checkBody(req, 'exec-start', body);
      // A 404 before the upgrade; the exec's Tty decides the stream's framing.
      const exec = await run<{ ProcessConfig: { tty: boolean } }>(req, 'exec.inspect', { id: req.params.id });
      if (body.Detach) {
        // docker exec -d: the process starts with no client attached; the answer comes at once.
        await ctx.engine.run('exec.start', { id: req.params.id, detach: true }, { origin: api.origin(req) });
        conn.done();
        return;
      }
      const detachKeys = detachKeysParam(ctx, req);
      const socket = conn.upgrade(streamType(req, exec.ProcessConfig.tty) ?? RAW);
      await ctx.engine.run('exec.start', { id: req.params.id, socket, detachKeys }, { origin: api.origin(req) }).catch((err) => {
        // After the upgrade an error travels in the stream: a system-error frame, or text on a TTY.
        const msg = Buffer.from(`${(err as Error).message}\r\n`);
        socket.end(body.Tty ? msg : frame(SYSERR, msg));
      });
    } catch (err) {
      conn.fail(err);
    }
  });
  api.route('get', '/exec/:id/json', async (req, res) => {
    api.sendJSON(res, 200, await run(req, 'exec.inspect', { id: req.params.id }));
  });

  api.route('post', '/containers/prune', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, ['label', 'label!', 'until']);
    api.sendJSON(res, 200, await run(req, 'container.prune', { filters }));
  });
}
