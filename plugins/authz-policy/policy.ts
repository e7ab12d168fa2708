// A policy: rules tried in order, the first that matches decides, else the default action.
// A rule matches when every condition it states holds (user, method, path, body predicates).
import { readFile } from 'node:fs/promises';
import type { PluginSchema } from '../../core/plugin-api.js';
import type { AuthzDecision, AuthzRequest } from '../authz/index.js';
import { bodyMatches, type BodyPredicates } from './body-predicates.js';
import { policySchema } from './policy-schema.js';

export interface Rule {
  name: string;
  action: 'allow' | 'deny';
  message?: string;
  users?: string[];
  methods?: string[];
  paths?: string[];
  body?: BodyPredicates;
}

interface CompiledRule extends Rule {
  pathPatterns?: RegExp[];
}

export interface Policy {
  file: string;
  evaluate(req: AuthzRequest, daemonSockets: readonly string[]): AuthzDecision | Promise<AuthzDecision>;
  ruleCount: number;
}

/** Path patterns: '*' is one segment, '**' any number of segments; everything else literal. */
export function pathPattern(glob: string): RegExp {
  const source = glob.split(/(\*\*|\*)/).map((part) => {
    if (part === '**') return '.*';
    if (part === '*') return '[^/]+';
    return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }).join('');
  return new RegExp(`^${source}$`);
}

/** Validates a parsed policy document; errors name the rule ("rule no-privileged (rules[0]): ..."). */
export function checkPolicy(doc: unknown, file: string, schema: PluginSchema): CompiledRule[] {
  const validateFn = schema.compile(policySchema);
  if (!validateFn(doc)) {
    const rules = (doc as { rules?: unknown })?.rules;
    const problems = (validateFn.errors ?? []).map((e) => {
      const m = /^\/rules\/(\d+)(\/.*)?$/.exec(e.instancePath);
      if (m && Array.isArray(rules)) {
        const i = Number(m[1]);
        const name = (rules[i] as { name?: unknown } | undefined)?.name;
        const which = `rule ${typeof name === 'string' ? JSON.stringify(name) : '(unnamed)'} (rules[${i}])`;
        return `${which}: ${schema.describeError({ ...e, instancePath: m[2] ?? '' })}`;
      }
      return schema.describeError(e);
    });
    throw new Error(`invalid policy ${file}: ${[...new Set(problems)].join('; ')}`);
  }
  const rules = (doc as { rules: Rule[] }).rules;
  const seen = new Set<string>();
  return rules.map((r, i) => {
    if (seen.has(r.name)) throw new Error(`invalid policy ${file}: rule "${r.name}" (rules[${i}]): name: used twice`);
    seen.add(r.name);
    return { ...r, ...(r.paths ? { pathPatterns: r.paths.map(pathPattern) } : {}) };
  });
}

function headMatches(rule: CompiledRule, req: AuthzRequest): boolean {
  if (rule.users && !rule.users.includes(req.user)) return false;
  // HEAD is served by GET handlers: a rule about GET covers HEAD too.
  if (rule.methods && !rule.methods.includes(req.method) && !(req.method === 'HEAD' && rule.methods.includes('GET'))) return false;
  if (rule.pathPatterns && !rule.pathPatterns.some((p) => p.test(req.path))) return false;
  return true;
}

const decision = (rule: Rule): AuthzDecision =>
  rule.action === 'allow' ? { allow: true } : { allow: false, msg: `${rule.message ?? 'denied'} (rule ${rule.name})` };

export function compilePolicy(doc: unknown, file: string, schema: PluginSchema): Policy {
  const rules = checkPolicy(doc, file, schema);
  const d = doc as { default: 'allow' | 'deny'; defaultMessage?: string };
  const fallback: AuthzDecision = d.default === 'allow' ? { allow: true } : { allow: false, msg: d.defaultMessage ?? 'denied by the default action of the policy' };
  return {
    file,
    ruleCount: rules.length,
    evaluate(req, daemonSockets) {
      // Synchronous until a rule needs the disk (bind sources' symlinks): no promise per request.
      const from = (start: number): AuthzDecision | Promise<AuthzDecision> => {
        for (let i = start; i < rules.length; i++) {
          const rule = rules[i];
          if (!headMatches(rule, req)) continue;
          if (rule.body) {
            const hit = bodyMatches(rule.body, req, daemonSockets);
            if (typeof hit !== 'boolean') return hit.then((yes) => (yes ? decision(rule) : from(i + 1)));
            if (!hit) continue;
          }
          return decision(rule);
        }
        return fallback;
      };
      return from(0);
    },
  };
}

export async function loadPolicy(file: string, schema: PluginSchema): Promise<Policy> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`invalid policy ${file}: ${(err as Error).message}`);
  }
  return compilePolicy(doc, file, schema);
}
