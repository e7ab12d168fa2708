// WWW-Authenticate challenges (RFC 7235) as registries send them: Basic realm="…" or
// Bearer realm="…",service="…",scope="…".

export interface Challenge {
  scheme: 'basic' | 'bearer' | string;
  params: Record<string, string>;
}

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const h of Array.isArray(header) ? header : header ? [header] : []) {
    // Schemes start a new challenge; parameters are key=value or key="quoted, value".
    const re = /([A-Za-z][\w-]*)(?:\s+|$)|([\w-]+)=("((?:[^"\\]|\\.)*)"|[^\s,]*)\s*,?\s*/gy;
    let m: RegExpExecArray | null;
    let current: Challenge | undefined;
    re.lastIndex = 0;
    const text = h.trim();
    while (re.lastIndex < text.length && (m = re.exec(text))) {
      if (m[2]) {
        if (current) current.params[m[2].toLowerCase()] = m[4] !== undefined ? m[4].replace(/\\(.)/g, '$1') : m[3];
      } else if (m[1]) {
        current = { scheme: m[1].toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}
