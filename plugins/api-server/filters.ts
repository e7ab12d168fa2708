// The `filters` query parameter: JSON of {"key": {"value": true}} (or the older {"key": ["value"]}).
import { invalid } from '../../core/plugin-api.js';

export type FilterArgs = Record<string, string[]>;

export function parseFilters(raw: unknown, allowed: readonly string[]): FilterArgs {
  if (raw === undefined || raw === '') return {};
  if (typeof raw !== 'string') throw invalid('invalid filter: filters must be given once, as JSON');
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    throw invalid(`invalid filter: ${(err as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw invalid('invalid filter: must be a JSON object');
  const out: FilterArgs = {};
  for (const [key, value] of Object.entries(data)) {
    if (!allowed.includes(key)) throw invalid(`Invalid filter '${key}'`);
    if (Array.isArray(value)) out[key] = value.map(String);
    else if (value && typeof value === 'object') out[key] = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k]);
    else throw invalid(`invalid filter: values of '${key}' must be a map or a list`);
  }
  return out;
}
