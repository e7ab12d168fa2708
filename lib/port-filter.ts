// The values of docker ps --filter expose= and publish=: PORT[/PROTO] or START-END[/PROTO], tcp by
// default, as dockerd parses them (daemon/list.go portOp): the set of "port/proto" they name.
import { invalid } from '../core/plugin-api.js';

/** Ranges are bounded (a whole 1-65535 range is fine): one entry a port. */
export function parsePortFilter(key: string, values: string[]): Set<string> {
  const out = new Set<string>();
  for (const value of values) {
    if (value.includes(':')) throw invalid(`filter for '${key}' should not contain ':': ${value}`);
    const slash = value.indexOf('/');
    const ports = slash < 0 ? value : value.slice(0, slash);
    const proto = (slash < 0 ? '' : value.slice(slash + 1)).toLowerCase() || 'tcp';
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(ports);
    const start = m ? Number(m[1]) : NaN;
    const end = m?.[2] !== undefined ? Number(m[2]) : start;
    if (!m || start > 65535 || end > 65535 || end < start) {
      throw invalid(`error while looking up for ${key} ${value}: invalid port: ${ports}`);
    }
    for (let p = start; p <= end; p++) out.add(`${p}/${proto}`);
  }
  return out;
}
