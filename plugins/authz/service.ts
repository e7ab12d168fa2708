// The `authz` service (interface version 1.0.0): what authz plugins register with, and what the
// API server asks before a request reaches its handler and before a response leaves.
import { SyncWaterfallHook } from 'tapable';

export const AUTHZ_SERVICE_VERSION = '2.0.0';

/** Everything a decision may need about one API request. Read-only for plugins. */
export interface AuthzRequest {
  /** The TLS client certificate's subject CN under --tlsverify; '' otherwise (unix socket peers are not identified). */
  user: string;
  /** 'TLS' when `user` comes from a verified client certificate, else ''. */
  authMethod: string;
  /** How the client connected. */
  transport: 'unix' | 'tcp' | 'tls';
  /** The verified client certificate chain, PEM, leaf first (empty without --tlsverify). */
  peerCertificates: string[];
  /** The method as sent (HEAD is answered by GET handlers). */
  method: string;
  /** The normalized path the router dispatches, without the /vX.Y prefix: "/containers/create". */
  path: string;
  /** The API version given in the path ("1.41"), or undefined when the client gave none. */
  apiVersion: string | undefined;
  /** The normalized request URI: version prefix (as given), path, then the raw query. */
  uri: string;
  /** The query, parsed as the router parses it. */
  query: Record<string, string | string[]>;
  /** Header names in lower case; Authorization, X-Registry-Auth and X-Registry-Config removed. */
  headers: Record<string, string>;
  /** The exact bytes the handler will read (empty when there is none); undefined when streamed. */
  body: Buffer | undefined;
  /** True for upload routes (tar archives) whose body streams to the handler unseen. */
  bodyStreamed: boolean;
  /** The body parsed as JSON (the handler uses the same parser on the same bytes); undefined if it is not JSON. */
  json(): unknown;
  /** True for hijacked (attach, exec start) requests: there is no response stage. */
  hijacked: boolean;
}

/** A buffered response (non-streaming responses only). */
export interface AuthzResponse {
  statusCode: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

export type AuthzDecision = { allow: true } | { allow: false; msg: string };

/** An in-process authorization plugin. */
export interface Authorizer {
  authorizeRequest(req: AuthzRequest): AuthzDecision | Promise<AuthzDecision>;
  /**
   * Optional: inspect (and deny) a response before it is sent. Declaring it makes the API
   * server buffer non-streaming responses; streams and hijacked connections are not seen here.
   */
  authorizeResponse?(req: AuthzRequest, res: AuthzResponse): AuthzDecision | Promise<AuthzDecision>;
}

export interface AuthzService {
  serviceVersion: string;
  /** Registers an authorizer under the name operators list in --authorization-plugin. */
  register(name: string, authorizer: Authorizer): void;
  /** True when the configured chain is non-empty: requests must be authorized. */
  active(): boolean;
  /** True when some plugin in the chain inspects responses. */
  wantsResponse(): boolean;
  /** Runs the request stage; throws dockerd's 403 on the first deny (or failure). */
  authorizeRequest(req: AuthzRequest): Promise<void>;
  /** Runs the response stage; throws dockerd's 403 on the first deny (or failure). */
  authorizeResponse(req: AuthzRequest, res: AuthzResponse): Promise<void>;
  /** The API's unix socket paths, as the apiSockets hook's taps give them: policies protect binds of them. */
  apiSockets(): string[];
  /** Tap these; never call them. apiSockets: add the unix sockets you serve the API on (the API server). */
  hooks: AuthzHooks;
}

export function createAuthzHooks() {
  return Object.freeze({
    apiSockets: new SyncWaterfallHook<[string[]]>(['paths']),
  });
}

export type AuthzHooks = ReturnType<typeof createAuthzHooks>;
