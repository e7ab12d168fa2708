// Instructions → stages (instructions.Parse's split) and the variable expansion dockerd applies
// per instruction before dispatching it (the SupportsSingleWordExpansion commands, EXPOSE, FROM).
import { invalid } from '../../../core/plugin-api.js';
import type { Instruction, ParsedDockerfile, Stage } from './types.js';
import { expandWord, expandWords, type ShellEnv } from './shell-lex.js';

/** Splits into the ARGs before the first FROM and the stages, refusing what dockerd refuses. */
export function splitStages(parsed: ParsedDockerfile): { metaArgs: Instruction[]; stages: Stage[] } {
  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  const names = new Set<string>();
  for (const ins of parsed.instructions) {
    if (ins.cmd === 'from') {
      const name = ins.args.length === 3 ? ins.args[2].toLowerCase() : undefined;
      if (name !== undefined) {
        if (names.has(name)) throw invalid(`${name} stage name already used`);
        names.add(name);
      }
      stages.push(name === undefined ? { from: ins, body: [] } : { name, from: ins, body: [] });
    } else if (stages.length === 0) {
      if (ins.cmd !== 'arg') throw invalid('no build stage in current context');
      metaArgs.push(ins);
    } else stages[stages.length - 1].body.push(ins);
  }
  return { metaArgs, stages };
}

/**
 * The instructions whose arguments dockerd expands with the ARG/ENV in effect (its old
 * replaceEnvAllowed list less ONBUILD, whose trigger is stored as written and expanded when it
 * runs in the child build). RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and MAINTAINER are not.
 */
export const EXPANDED_INSTRUCTIONS: ReadonlySet<string> = new Set([
  'add', 'arg', 'copy', 'env', 'expose', 'from', 'label', 'stopsignal', 'user', 'volume', 'workdir',
]);

/**
 * The instruction with its arguments expanded as dockerd expands them (quotes removed): words of
 * ENV/LABEL/ARG keys and values, COPY/ADD paths and --chown/--chmod/--checksum, WORKDIR, USER,
 * VOLUME, STOPSIGNAL; EXPOSE splits words (`EXPOSE $PORTS` with PORTS="80 443" gives two);
 * FROM's image and --platform (pass only the meta ARGs as `env` for FROM, as dockerd does).
 * Others are returned unchanged. Throws E_INVALID with the lexer's message on a bad substitution.
 */
export function expandInstruction(ins: Instruction, env: ShellEnv, escape: string): Instruction {
  if (!EXPANDED_INSTRUCTIONS.has(ins.cmd)) return ins;
  const word = (w: string) => {
    try {
      return expandWord(w, env, escape);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  };
  const out: Instruction = { ...ins, flags: { ...ins.flags }, args: [...ins.args] };
  switch (ins.cmd) {
    case 'expose':
      out.args = ins.args.flatMap(p => {
        try {
          return expandWords(p, env, escape);
        } catch (err) {
          throw invalid((err as Error).message);
        }
      });
      break;
    case 'from':
      out.args[0] = word(ins.args[0]);
      if (ins.flags.platform) out.flags.platform = word(ins.flags.platform);
      break;
    case 'arg':
      out.args = ins.args.map(word);
      if (ins.argDefaults) out.argDefaults = ins.argDefaults.map(v => (v === null ? null : word(v)));
      break;
    case 'add':
    case 'copy':
      for (const f of ['chown', 'chmod', 'checksum']) if (f in ins.flags) out.flags[f] = word(ins.flags[f]);
      out.args = ins.args.map(word);
      break;
    default:
      out.args = ins.args.map(word);
  }
  return out;
}
