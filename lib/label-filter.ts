// The `label` filters of list and prune routes, as dockerd matches them: `key` (present) or
// `key=value` (equal); every one given must match. `label!` leaves out what matches any.
export function labelsMatch(labels: Record<string, string>, wanted: readonly string[]): boolean {
  return wanted.every((w) => matchOne(labels, w));
}

export function labelsExcluded(labels: Record<string, string>, unwanted: readonly string[]): boolean {
  return unwanted.some((w) => matchOne(labels, w));
}

function matchOne(labels: Record<string, string>, w: string): boolean {
  const eq = w.indexOf('=');
  return eq < 0 ? w in labels : labels[w.slice(0, eq)] === w.slice(eq + 1);
}
