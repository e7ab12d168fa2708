// Chooses the graph driver: the operator's choice, else the preferred one whose probe works here.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { configError, messageOf, type PluginSchema } from '../../core/plugin-api.js';
import type { DriverRegistration, GraphDriver } from './driver.js';

function parseOptions(opts: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    out[o.slice(0, eq).trim()] = o.slice(eq + 1).trim();
  }
  return out;
}

/** A probe that throws (a third-party one) is a refusal that names its root, never a fatal start. */
async function probe(d: DriverRegistration, root: string): Promise<{ ok: boolean; reason: string }> {
  try {
    return await d.probe(root);
  } catch (err) {
    return { ok: false, reason: `probe under ${root} failed: ${messageOf(err)}` };
  }
}

export async function selectDriver(o: {
  drivers: DriverRegistration[];
  validate: PluginSchema['validate'];
  chosen: string | undefined;
  storageOpts: string[];
  dataRoot: string;
  log: Logger;
}): Promise<GraphDriver> {
  const names = o.drivers.map((d) => d.name).sort().join(', ') || 'none';
  let reg: DriverRegistration | undefined;
  let why: string;
  if (o.chosen) {
    reg = o.drivers.find((d) => d.name === o.chosen);
    if (!reg) throw configError(`plugin graph: storage-driver: no graph driver named "${o.chosen}" is loaded (loaded: ${names})`);
    const result = await probe(reg, join(o.dataRoot, reg.name));
    if (!result.ok) throw configError(`plugin graph: storage-driver: driver ${reg.name} cannot work here: ${result.reason}`);
    why = `chosen by configuration (${result.reason})`;
  } else {
    const refused: string[] = [];
    for (const d of [...o.drivers].sort((a, b) => a.priority - b.priority)) {
      const result = await probe(d, join(o.dataRoot, d.name));
      if (result.ok) {
        reg = d;
        why = `${result.reason}${refused.length ? `; not ${refused.join('; not ')}` : ''}`;
        break;
      }
      refused.push(`${d.name}: ${result.reason}`);
    }
    if (!reg) throw configError(`plugin graph: no graph driver works here (${refused.join('; ') || 'none is loaded'})`);
  }
  const options = parseOptions(o.storageOpts);
  if (reg.optionsSchema) {
    const problems = o.validate(reg.optionsSchema, options, 'storage-opt');
    if (problems.length) throw configError(`plugin graph: driver ${reg.name}: ${problems.join('; ')}`);
  } else if (Object.keys(options).length) {
    throw configError(`plugin graph: driver ${reg.name} takes no storage options (got ${Object.keys(options).join(', ')})`);
  }
  const driver = await reg.open({ root: join(o.dataRoot, reg.name), options, log: o.log.child({ driver: reg.name }) });
  o.log.info({ driver: reg.name, reason: why! }, 'graph driver selected');
  return driver;
}
