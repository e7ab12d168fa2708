// Docker's authz plugin protocol (pkg/authorization): existing plugins such as opa-docker-authz
// work unchanged. Plugin.Activate once (again after a connection failure), then
// AuthZPlugin.AuthZReq before the handler and AuthZPlugin.AuthZRes before the response.
import type { AuthzDecision, AuthzRequest, AuthzResponse, Authorizer } from '../service.js';
import { answerError, DockerPlugin } from '../../../lib/docker-plugin/index.js';

export const AUTHZ_REQ = 'AuthZPlugin.AuthZReq';
export const AUTHZ_RES = 'AuthZPlugin.AuthZRes';

/** Go's http.CanonicalHeaderKey: what Docker plugins see as header names. */
const canonical = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

function headerMap(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[canonical(k)] = v;
  return out;
}

/** The protocol's Request document; field names (including "RequestUri") as dockerd's JSON tags. */
function requestDoc(req: AuthzRequest) {
  return {
    User: req.user,
    UserAuthNMethod: req.authMethod,
    RequestMethod: req.method,
    RequestUri: req.uri,
    ...(req.body && req.body.length ? { RequestBody: req.body.toString('base64') } : {}),
    RequestHeaders: headerMap(req.headers),
    // dockerd marshals each certificate as its PEM bytes, which JSON carries as base64.
    ...(req.peerCertificates.length ? { RequestPeerCertificates: req.peerCertificates.map((pem) => Buffer.from(pem).toString('base64')) } : {}),
  };
}

function decide(method: string, answer: unknown): AuthzDecision {
  const a = answer as { Allow?: unknown; Msg?: unknown; Err?: unknown } | null;
  if (!a || typeof a !== 'object' || typeof a.Allow !== 'boolean') {
    throw new Error(`${method}: invalid answer ${JSON.stringify(answer)?.slice(0, 200)}: expected {"Allow": bool, "Msg": string}`);
  }
  const err = answerError(method, a);
  if (err) throw err;
  return a.Allow ? { allow: true } : { allow: false, msg: typeof a.Msg === 'string' ? a.Msg : '' };
}

export class DockerAuthzPlugin implements Authorizer {
  private readonly plugin: DockerPlugin;

  constructor(
    readonly name: string,
    dirs: () => readonly string[],
    private readonly timeoutMs: () => number,
  ) {
    this.plugin = new DockerPlugin(name, 'authz', dirs, timeoutMs);
  }

  close(): void {
    this.plugin.close();
  }

  private async call(method: string, doc: unknown): Promise<AuthzDecision> {
    return decide(method, await this.plugin.call(method, doc, this.timeoutMs()));
  }

  authorizeRequest(req: AuthzRequest): Promise<AuthzDecision> {
    return this.call(AUTHZ_REQ, requestDoc(req));
  }

  authorizeResponse(req: AuthzRequest, res: AuthzResponse): Promise<AuthzDecision> {
    return this.call(AUTHZ_RES, {
      ...requestDoc(req),
      ResponseStatusCode: res.statusCode,
      ...(res.body.length ? { ResponseBody: res.body.toString('base64') } : {}),
      ResponseHeaders: headerMap(res.headers),
    });
  }
}
