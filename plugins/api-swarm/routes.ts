// The swarm route table of an inactive dockerd: Berth is never part of a swarm, so every cluster
// route answers 503 with dockerd's words for that state (daemon/cluster/errors.go), which client
// libraries branch on (docker-py's leave_swarm(force=True), testcontainers, docker-java).
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiService, RouteHandler } from '../api-server/index.js';

/** errNoManager for a node outside a swarm. */
export const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** errNoSwarm: leave and unlock on a node that is in no swarm. */
export const NOT_IN_A_SWARM = 'This node is not part of a swarm';
/** Where dockerd would start or join a swarm: Berth says it cannot. */
export const NO_SWARM_MODE = 'Berth runs no swarm: swarm mode (docker swarm init/join) is not supported by this daemon';

/** Cluster objects: the collection and everything under it. */
const CLUSTER_OBJECTS = ['nodes', 'services', 'tasks', 'secrets', 'configs'] as const;
const METHODS = ['get', 'head', 'post', 'put', 'delete'] as const;

export function mountSwarmRoutes(ctx: PluginContext, api: ApiService): void {
  const answer = (message: string): RouteHandler => () => { throw ctx.errors.unavailable(message); };
  api.route('post', '/swarm/init', answer(NO_SWARM_MODE));
  api.route('post', '/swarm/join', answer(NO_SWARM_MODE));
  api.route('post', '/swarm/leave', answer(NOT_IN_A_SWARM));
  api.route('post', '/swarm/unlock', answer(NOT_IN_A_SWARM));
  api.route('get', '/swarm/unlockkey', answer(NOT_A_MANAGER));
  api.route('post', '/swarm/update', answer(NOT_A_MANAGER));
  api.route('get', '/swarm', answer(NOT_A_MANAGER));
  for (const object of CLUSTER_OBJECTS) {
    for (const method of METHODS) {
      api.route(method, `/${object}`, answer(NOT_A_MANAGER));
      api.route(method, `/${object}/*rest`, answer(NOT_A_MANAGER));
    }
  }
}
