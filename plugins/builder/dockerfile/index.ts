// The Dockerfile parser's contract with the builder: dockerd's classic rules.
export type { Instruction, ParsedDockerfile, Stage } from './types.js';
export { parseDockerfile } from './parser.js';
export { parseOnbuildTrigger } from './parser.js';
export { splitStages, expandInstruction, EXPANDED_INSTRUCTIONS } from './stages.js';
export { expandWord, expandWords, ExpansionError, type ShellEnv, type LexOptions } from './shell-lex.js';
export { checkClassicFlags, healthcheckConfig, INSTRUCTION_NAMES, type HealthConfig } from './instructions.js';
export { parseGoDuration } from './duration.js';
