// API versions: /vX.Y/ prefixes, the supported range, and dockerd's errors outside it.
import type { ServerResponse } from 'node:http';

export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.44';

// Parsed once: every request compares its version several times (the range, the version gates).
// Bounded, as clients choose the strings.
const parsed = new Map<string, [number, number]>();
function parse(v: string): [number, number] {
  let p = parsed.get(v);
  if (!p) {
    const [major, minor] = v.split('.').map(Number);
    p = [major, minor];
    if (parsed.size < 256) parsed.set(v, p);
  }
  return p;
}

export function compareVersions(a: string, b: string): number {
  const [a1, a2] = parse(a);
  const [b1, b2] = parse(b);
  return a1 - b1 || a2 - b2;
}

/** dockerd's answer to a version outside the supported range, or undefined when it is in range. */
export function versionProblem(version: string): { type: string; body: string } | undefined {
  if (compareVersions(version, MAX_API_VERSION) > 0) {
    return { type: 'application/json', body: `${JSON.stringify({ message: `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}` })}\n` };
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    // dockerd answers this one in plain text.
    return { type: 'text/plain; charset=utf-8', body: `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version\n` };
  }
  return undefined;
}

/** Answers dockerd's 400 for a version outside the range; returns false then. */
export function acceptVersion(version: string, res: ServerResponse): boolean {
  const problem = versionProblem(version);
  if (!problem) return true;
  const plain = problem.type.startsWith('text/') ? { 'X-Content-Type-Options': 'nosniff' } : {};
  res.writeHead(400, { 'Content-Type': problem.type, ...plain, 'Content-Length': Buffer.byteLength(problem.body) }).end(problem.body);
  return false;
}
