// What the Dockerfile parser hands the builder: the shape both sides agree on.

/** One instruction as written, continuations joined. */
export interface Instruction {
  /** Lower-case keyword: 'from', 'run', 'copy', 'add', 'env', 'arg', 'onbuild' … */
  cmd: string;
  /** The instruction's text as the user wrote it (continuations joined, comments dropped), for errors. */
  original: string;
  /** 1-based line where it starts. */
  line: number;
  /** Its --name=value flags (`--from=build`, `--chown=1:1`, `--platform=…`), names without dashes. */
  flags: Record<string, string>;
  /**
   * Its arguments, NOT yet variable-expanded (the builder expands with the ARG/ENV in effect):
   * exec (JSON) form: the array elements; shell form of RUN/CMD/ENTRYPOINT/SHELL: one element,
   * the rest of the line; ENV/LABEL/ARG: alternating key, value ([k1, v1, k2, v2], a bare ARG key
   * gets value null-as-absent via `argDefaults`); other instructions: whitespace-split words.
   */
  args: string[];
  /** True when written in JSON (exec) form. */
  json: boolean;
  /** ARG only: each key's default as written (not expanded), null when the ARG has none. */
  argDefaults?: (string | null)[];
  /** ONBUILD's inner instruction. */
  next?: Instruction;
}

export interface ParsedDockerfile {
  /** The escape character in force (`\` or from `# escape=`). */
  escape: '\\' | '`';
  /** Notes the builder prints (e.g. "# syntax= is ignored by the classic builder"), without newlines. */
  warnings: string[];
  instructions: Instruction[];
}

/** Stages in order: the ARGs before the first FROM are `metaArgs`. */
export interface Stage {
  /** Lower-cased `AS name`, or undefined. */
  name?: string;
  /** The FROM instruction itself. */
  from: Instruction;
  /** The instructions after FROM up to the next FROM. */
  body: Instruction[];
}
