// daemon.json plus flags: one configuration, split into sections owned by the core and by plugins.
// As dockerd: an unknown key, a directive given both as a flag and in the file, a wrong type
// or a bad value is an error naming the file, the key and the problem.
import { readFile } from 'node:fs/promises';
import { configError, messageOf } from '../errors.js';
import { validate, type JsonSchema } from '../schema.js';

export interface ConfigSection {
  /** 'core' or the plugin's name. */
  owner: string;
  schema: JsonSchema;
}

export interface ResolvedConfig {
  /** Every key with its final value, defaults applied. */
  values: Record<string, unknown>;
  /** Each owner's keys, frozen. */
  sections: Map<string, Readonly<Record<string, unknown>>>;
}

const prefix = (file: string | undefined) =>
  file ? `unable to configure the Berth daemon with file ${file}: ` : 'unable to configure the Berth daemon: ';

export async function readConfigFile(file: string, explicit: boolean): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: any) {
    if (err.code === 'ENOENT' && !explicit) return {};
    throw configError(`${prefix(file)}${err.code === 'ENOENT' ? 'no such file or directory' : messageOf(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw configError(`${prefix(file)}invalid JSON: ${messageOf(err)}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw configError(`${prefix(file)}the configuration must be a JSON object`);
  }
  return data as Record<string, unknown>;
}

/** The schema a configuration section is checked against: its owner's keys and no others. */
export function sectionSchema(schema: JsonSchema): JsonSchema {
  return { type: 'object', ...schema, additionalProperties: false };
}

function ownerTable(sections: ConfigSection[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const s of sections) {
    for (const key of Object.keys((s.schema.properties as object | undefined) ?? {})) {
      const other = owners.get(key);
      if (other) throw configError(`configuration key "${key}" is declared by both ${other} and ${s.owner}`);
      owners.set(key, s.owner);
    }
  }
  return owners;
}

export function resolveConfig(
  sections: ConfigSection[],
  fileValues: Record<string, unknown>,
  flagValues: Record<string, unknown>,
  file: string | undefined,
): ResolvedConfig {
  const owners = ownerTable(sections);
  const unknown = Object.keys(fileValues).filter((k) => !owners.has(k));
  if (unknown.length) {
    throw configError(`${prefix(file)}the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  const both = Object.keys(flagValues).filter((k) => k in fileValues);
  if (both.length) {
    const detail = both
      .map((k) => `${k}: (from flag: ${JSON.stringify(flagValues[k])}, from file: ${JSON.stringify(fileValues[k])})`)
      .join(', ');
    throw configError(`${prefix(file)}the following directives are specified both as a flag and in the configuration file: ${detail}`);
  }
  const values: Record<string, unknown> = {};
  const result = new Map<string, Readonly<Record<string, unknown>>>();
  const problems: string[] = [];
  for (const s of sections) {
    const own: Record<string, unknown> = {};
    for (const [key, owner] of owners) {
      if (owner !== s.owner) continue;
      if (key in flagValues) own[key] = structuredClone(flagValues[key]);
      else if (key in fileValues) own[key] = structuredClone(fileValues[key]);
    }
    for (const p of validate(sectionSchema(s.schema), own)) {
      const key = p.split(/[.:]/)[0];
      const where = key in flagValues ? 'a flag' : file ? `file ${file}` : 'defaults';
      problems.push(s.owner === 'core' ? `${prefix(key in flagValues ? undefined : file)}${p}` : `plugin ${s.owner}: config ${p} (in ${where})`);
    }
    Object.assign(values, own);
    result.set(s.owner, Object.freeze(own));
  }
  if (problems.length) throw configError(problems.join('\n'));
  return { values, sections: result };
}
