// The authz plugin: keeps the configured chain (reloaded on SIGHUP), the in-process authorizers
// that authz plugins register, and a Docker-protocol bridge for every other name.
import { definePlugin } from '../../core/plugin-api.js';
import { AuthzChain } from './chain.js';
import { DockerAuthzPlugin } from './docker-protocol/authz-bridge.js';
import { discoverPlugin } from '../../lib/docker-plugin/index.js';
import { AUTHZ_SERVICE_VERSION, createAuthzHooks, type AuthzService, type Authorizer } from './service.js';

export type { AuthzDecision, AuthzHooks, AuthzRequest, AuthzResponse, AuthzService, Authorizer } from './service.js';

export default definePlugin({
  init(ctx) {
    const cfg = ctx.config as { 'authorization-plugins': string[]; 'authz-plugin-dirs': string[]; 'authz-timeout': number };
    let dirs = cfg['authz-plugin-dirs'];
    let timeoutMs = cfg['authz-timeout'] * 1000;
    const local = new Map<string, Authorizer>();
    const remote = new Map<string, DockerAuthzPlugin>();

    const bridgeFor = (name: string): Authorizer => {
      const own = local.get(name);
      if (own) return own;
      let bridge = remote.get(name);
      if (!bridge) remote.set(name, (bridge = new DockerAuthzPlugin(name, () => dirs, () => timeoutMs)));
      return bridge;
    };
    // In-process plugins register during start-up: until the daemon is ready a name may still come.
    const resolve = (name: string): Authorizer | Promise<Authorizer> =>
      local.get(name) ?? (ctx.daemon.isReady() ? bridgeFor(name) : ctx.daemon.whenReady().then(() => bridgeFor(name)));
    const chain = new AuthzChain({
      resolve,
      // Docker-protocol plugins always get AuthZRes, as dockerd sends it.
      inspectsResponses: (name) => {
        const own = local.get(name);
        return own ? typeof own.authorizeResponse === 'function' : true;
      },
      timeoutMs: () => timeoutMs,
      log: ctx.log,
    });
    chain.setNames(cfg['authorization-plugins']);

    const hooks = createAuthzHooks();
    const service: AuthzService = {
      serviceVersion: AUTHZ_SERVICE_VERSION,
      register(name, authorizer) {
        if (local.has(name)) throw ctx.errors.conflict(`authz plugin ${name} is already registered`);
        if (typeof authorizer?.authorizeRequest !== 'function') throw ctx.errors.invalid(`authz plugin ${name}: authorizeRequest must be a function`);
        local.set(name, authorizer);
      },
      active: () => chain.active,
      wantsResponse: () => chain.wantsResponse(),
      authorizeRequest: (req) => chain.authorizeRequest(req),
      authorizeResponse: (req, res) => chain.authorizeResponse(req, res),
      apiSockets: () => hooks.apiSockets.call([]),
      hooks,
    };
    ctx.services.provide('authz', service);

    ctx.hooks.ready.tapPromise('authz-chain', async () => {
      if (!chain.active) return;
      ctx.log.info({ chain: chain.list(), inProcess: chain.list().filter((n) => local.has(n)) }, 'authorization plugins');
      // A Docker plugin may start after us (requests are denied until it answers): say so now.
      for (const name of chain.list().filter((n) => !local.has(n))) {
        await discoverPlugin(name, dirs).catch((err: Error) =>
          ctx.log.warn({ plugin: name, err: err.message }, 'authorization plugin not found yet: requests are denied until it is'));
      }
    });
    ctx.hooks.reload.tap('authz-chain', ({ changed }) => {
      if (Array.isArray(changed['authz-plugin-dirs'])) dirs = changed['authz-plugin-dirs'] as string[];
      if (typeof changed['authz-timeout'] === 'number') timeoutMs = changed['authz-timeout'] * 1000;
      if (Array.isArray(changed['authorization-plugins'])) {
        chain.setNames(changed['authorization-plugins'] as string[]);
        ctx.log.info({ chain: chain.list() }, 'authorization plugins reloaded');
      }
      // A bridge may now point elsewhere: rediscover on next use.
      for (const b of remote.values()) b.close();
      remote.clear();
    });
    ctx.hooks.shutdown.tap('authz-bridges', () => {
      for (const b of remote.values()) b.close();
    });
  },
});
