// A Docker authz plugin written for tests: an HTTP server on a unix socket speaking the AuthZ
// protocol (Plugin.Activate, AuthZPlugin.AuthZReq, AuthZPlugin.AuthZRes), recording each call.
import { HANG, startDockerPluginServer, type PluginCall } from './docker-plugin-server.js';

export { HANG };
export type AuthzCall = PluginCall;

export interface FakeAuthzPlugin {
  socket: string;
  calls: AuthzCall[];
  /** Decides AuthZReq answers; the default allows everything. */
  onRequest: (doc: Record<string, any>) => unknown;
  onResponse: (doc: Record<string, any>) => unknown;
  stop: () => Promise<void>;
}

export async function startFakeAuthzPlugin(socket: string): Promise<FakeAuthzPlugin> {
  const server = await startDockerPluginServer({ socket }, ['authz'], (url, doc) =>
    url === '/AuthZPlugin.AuthZReq' ? plugin.onRequest(doc)
      : url === '/AuthZPlugin.AuthZRes' ? plugin.onResponse(doc)
        : undefined);
  const plugin: FakeAuthzPlugin = {
    socket,
    calls: server.calls,
    onRequest: () => ({ Allow: true }),
    onResponse: () => ({ Allow: true }),
    stop: server.stop,
  };
  return plugin;
}

/** The decoded RequestBody of a call ('' when none). */
export const bodyOf = (doc: Record<string, any>): string => (doc.RequestBody ? Buffer.from(doc.RequestBody, 'base64').toString('utf8') : '');
