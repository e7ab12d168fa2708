// The Dockerfile parser: dockerd's classic rules (buildkit's frontend/dockerfile parser,
// instructions and shell lexer), checked case by case with dockerd's own messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseDockerfile, splitStages, expandWord, expandWords, expandInstruction, checkClassicFlags,
  healthcheckConfig, parseOnbuildTrigger, parseGoDuration, EXPANDED_INSTRUCTIONS, type Instruction,
} from '../plugins/builder/dockerfile/index.js';

const parse = (text: string) => parseDockerfile(text).instructions;
const only = (text: string): Instruction => {
  const all = parse(text);
  assert.equal(all.length, 1, `one instruction in ${JSON.stringify(text)}`);
  return all[0];
};
const refused = (text: string, message: string) =>
  assert.throws(() => parseDockerfile(text), (err: Error & { code?: string }) => {
    assert.equal(err.message, message);
    assert.equal(err.code, 'E_INVALID');
    return true;
  });

test('comments, empty lines and keyword case: instructions with their line numbers', () => {
  const ins = parse('# a comment\n\nfrom busybox\n  # indented comment\nRun echo hi\n\n\nCMD ["sh"]\n');
  assert.deepEqual(ins.map(i => [i.cmd, i.line, i.args]), [
    ['from', 3, ['busybox']],
    ['run', 5, ['echo hi']],
    ['cmd', 8, ['sh']],
  ]);
  assert.equal(ins[2].json, true);
  assert.equal(ins[1].json, false);
  assert.equal(ins[1].original, 'Run echo hi');
});

test('line continuations join lines; comments inside are dropped; an empty continuation line warns', () => {
  const parsed = parseDockerfile('FROM busybox\nRUN echo a \\\n  # comment\n  && echo b \\\n\n  && echo c\nRUN x\\\n');
  const run = parsed.instructions[1];
  assert.equal(run.args[0], 'echo a   && echo b   && echo c');
  assert.equal(run.line, 2);
  assert.equal(parsed.instructions[2].args[0], 'x', 'a continuation at end of file ends the instruction');
  assert.deepEqual(parsed.warnings, [
    '[WARNING]: Empty continuation line found in: RUN echo a   && echo b   && echo c',
    '[WARNING]: Empty continuation lines will become errors in a future release.',
  ]);
  assert.equal(parse('FROM a\nRUN echo \\\\\nRUN b')[1].args[0], 'echo \\\\', 'an escaped escape is no continuation');
  assert.equal(parse('FROM a\r\nRUN a \\\r\n b\r\n')[1].args[0], 'a  b', 'CRLF line ends');
});

test('the escape directive: backtick continues lines and backslash is literal', () => {
  const parsed = parseDockerfile('# escape=`\nFROM windows\nRUN dir c:\\ `\n  /b\nCOPY a\\b c:\\d\n');
  assert.equal(parsed.escape, '`');
  assert.equal(parsed.instructions[1].args[0], 'dir c:\\   /b');
  assert.deepEqual(parsed.instructions[2].args, ['a\\b', 'c:\\d']);
  assert.equal(parseDockerfile('#escape = \\\nFROM a').escape, '\\');
  refused('# escape=x\nFROM a', "failed to parse Dockerfile: invalid escape token 'x' does not match ` or \\");
  refused('# escape=`\n# escape=\\\nFROM a', 'failed to parse Dockerfile: only one escape parser directive can be used');
});

test('directives only count before the first instruction or other comment', () => {
  assert.equal(parseDockerfile('# a comment\n# escape=`\nFROM a').escape, '\\');
  assert.equal(parseDockerfile('FROM a\n# escape=`\nRUN b').escape, '\\');
  assert.equal(parseDockerfile('\n# escape=`\nFROM a').escape, '\\', 'an empty line ends the directives');
  assert.equal(parseDockerfile('\uFEFF# escape=`\nFROM a').escape, '`', 'a byte-order mark is dropped');
});

test('# syntax= is ignored by the classic builder, with a warning', () => {
  const parsed = parseDockerfile('# syntax=docker/dockerfile:1\nFROM a\n');
  assert.equal(parsed.instructions.length, 1);
  assert.equal(parsed.warnings.length, 1);
  assert.match(parsed.warnings[0], /syntax=docker\/dockerfile:1.*ignored.*BuildKit/);
});

test('JSON (exec) form and shell form; invalid JSON falls back to shell form as dockerd does', () => {
  assert.deepEqual(only('CMD ["echo", "a b"]').args, ['echo', 'a b']);
  for (const text of ["CMD ['echo', 'x']", 'CMD ["echo", "x"', 'CMD ["echo" "x"]', 'CMD [ "echo", "unterminated ]']) {
    const ins = only(text);
    assert.equal(ins.json, false, text);
    assert.deepEqual(ins.args, [text.slice(4)], text);
  }
  assert.equal(only('ENTRYPOINT []').json, true);
  assert.deepEqual(only('ENTRYPOINT []').args, []);
  refused('FROM a\nCMD ["a", 1]', 'failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only');
  assert.deepEqual(only('COPY ["a b", "/c d/"]').args, ['a b', '/c d/']);
  assert.deepEqual(only('COPY a   b\t/c/').args, ['a', 'b', '/c/']);
  assert.deepEqual(only('VOLUME ["/data", "/logs"]').args, ['/data', '/logs']);
  assert.deepEqual(only('VOLUME /a /b').args, ['/a', '/b']);
  assert.deepEqual(only('USER a b').args, ['a b'], 'USER keeps the rest of the line as one argument');
});

test('flags: --name=value before the arguments, with dockerd\'s flag errors', () => {
  const copy = only('COPY --from=build --chown=1:1 /a /b');
  assert.deepEqual(copy.flags, { from: 'build', chown: '1:1' });
  assert.deepEqual(copy.args, ['/a', '/b']);
  assert.deepEqual(only('COPY --from="my stage" a b').flags, { from: 'my stage' });
  assert.deepEqual(only('FROM --platform=linux/amd64 busybox AS b').flags, { platform: 'linux/amd64' });
  assert.deepEqual(only('COPY --link a b').flags, { link: 'true' });
  assert.deepEqual(only('COPY -- --a b').args, ['--a', 'b'], '-- ends the flags');
  refused('FROM a\nCOPY --form=x a b', 'dockerfile parse error on line 2: unknown flag: --form (did you mean from?)');
  refused('FROM a\nCOPY --zzzzzz=x a b', 'dockerfile parse error on line 2: unknown flag: --zzzzzz');
  refused('FROM a\nCOPY --from=x --from=y a b', 'dockerfile parse error on line 2: duplicate flag specified: --from');
  refused('FROM a\nCOPY --from a b', 'dockerfile parse error on line 2: missing a value on flag: --from');
  refused('FROM a\nCOPY --link=maybe a b', 'dockerfile parse error on line 2: expecting boolean value for flag --link, not: maybe');
  refused('FROM a\nENV --x=1 A=b', 'dockerfile parse error on line 2: unknown flag: --x');
});

test('ENV and LABEL: both forms, quotes kept for the expansion step, dockerd\'s errors', () => {
  assert.deepEqual(only('ENV A=1 B="two words" C=').args, ['A', '1', 'B', '"two words"', 'C', '']);
  assert.deepEqual(only('ENV PATH /usr/bin:$PATH  and more').args, ['PATH', '/usr/bin:$PATH  and more']);
  assert.deepEqual(only('LABEL "com.example.vendor"="ACME Inc" version=1.0').args, ['"com.example.vendor"', '"ACME Inc"', 'version', '1.0']);
  assert.deepEqual(only('ENV A=a\\ b').args, ['A', 'a\\ b']);
  refused('FROM a\nENV ONLYKEY', 'failed to parse Dockerfile: ENV must have two arguments');
  refused('FROM a\nENV A=1 B', 'failed to parse Dockerfile: Syntax error - can\'t find = in "B". Must be of the form: name=value');
  refused('FROM a\nLABEL', 'dockerfile parse error on line 2: LABEL requires at least one argument');
  refused('FROM a\nENV =x', 'dockerfile parse error on line 2: ENV names can not be blank');
});

test('ARG: keys with or without a default', () => {
  const arg = only('ARG A B=2 C= "D=x y"');
  assert.deepEqual(arg.args, ['A', '', 'B', '2', 'C', '', '"D', 'x y"']);
  assert.deepEqual(arg.argDefaults, [null, '2', '', 'x y"']);
  refused('ARG', 'dockerfile parse error on line 1: ARG requires at least one argument');
  refused('ARG =1', 'dockerfile parse error on line 1: ARG names can not be blank');
});

test('unknown instructions are refused with dockerd\'s wording and suggestion', () => {
  refused('FROM a\nFOOBAR bar', 'dockerfile parse error on line 2: unknown instruction: FOOBAR');
  refused('FROM a\nFOO bar', 'dockerfile parse error on line 2: unknown instruction: FOO (did you mean FROM?)');
  refused('FORM a', 'dockerfile parse error on line 1: unknown instruction: FORM (did you mean FROM?)');
  refused('from a\ncopyy a b', 'dockerfile parse error on line 2: unknown instruction: copyy (did you mean copy?)');
});

test('argument counts and per-instruction errors as dockerd words them', () => {
  refused('FROM', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
  refused('FROM a b', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
  refused('FROM a AS 1x', 'dockerfile parse error on line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
  refused('FROM a\nCOPY a', 'dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
  refused('FROM a\nADD a', 'dockerfile parse error on line 2: ADD requires at least two arguments, but only one was provided. Destination could not be determined');
  refused('FROM a\nWORKDIR', 'dockerfile parse error on line 2: WORKDIR requires exactly one argument');
  refused('FROM a\nUSER', 'dockerfile parse error on line 2: USER requires exactly one argument');
  refused('FROM a\nEXPOSE', 'dockerfile parse error on line 2: EXPOSE requires at least one argument');
  refused('FROM a\nVOLUME [""]', 'dockerfile parse error on line 2: VOLUME specified can not be an empty string');
  refused('FROM a\nSHELL /bin/bash -c', 'dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form');
  refused('FROM a\nSHELL []', 'dockerfile parse error on line 2: SHELL requires at least one argument');
  refused('FROM a\nMAINTAINER', 'dockerfile parse error on line 2: MAINTAINER requires exactly one argument');
  refused('', 'failed to parse Dockerfile: file with no instructions');
  refused('# only a comment\n\n', 'failed to parse Dockerfile: file with no instructions');
  assert.deepEqual(only('EXPOSE 8080 443/tcp 80').args, ['443/tcp', '80', '8080'], 'EXPOSE sorts its ports as dockerd does');
});

test('ONBUILD: the trigger kept as written and parsed; ONBUILD ONBUILD, FROM and MAINTAINER refused', () => {
  const ins = only('ONBUILD RUN echo "built from $PARENT"');
  assert.deepEqual(ins.args, ['RUN echo "built from $PARENT"']);
  assert.equal(ins.next?.cmd, 'run');
  assert.deepEqual(ins.next?.args, ['echo "built from $PARENT"']);
  const trigger = only('onbuild COPY --chown=1 a /b');
  assert.deepEqual(parseOnbuildTrigger(trigger.args[0]).flags, { chown: '1' }, 'the trigger is checked when it runs, as dockerd does');
  assert.doesNotThrow(() => parseDockerfile('FROM a\nONBUILD COPY --bogus a b'));
  assert.throws(() => parseOnbuildTrigger('COPY --bogus a b'), /unknown flag: --bogus/);
  refused('FROM a\nONBUILD ONBUILD RUN x', 'dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  refused('FROM a\nONBUILD FROM b', 'dockerfile parse error on line 2: FROM isn\'t allowed as an ONBUILD trigger');
  refused('FROM a\nonbuild maintainer me', 'dockerfile parse error on line 2: MAINTAINER isn\'t allowed as an ONBUILD trigger');
  refused('FROM a\nONBUILD', 'dockerfile parse error on line 2: ONBUILD requires at least one argument');
  assert.equal(parseOnbuildTrigger('RUN echo hi').cmd, 'run');
  assert.throws(() => parseOnbuildTrigger('FROM x'), /FROM isn't allowed as an ONBUILD trigger/);
});

test('heredocs are refused: the classic builder cannot run them', () => {
  refused('FROM a\nRUN <<EOF\necho hi\nEOF\n', 'dockerfile parse error on line 2: the heredoc syntax (<<EOF) requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
  refused('FROM a\nCOPY <<-"EOT" /f\nx\nEOT', /* quoted and chomped forms too */ 'dockerfile parse error on line 2: the heredoc syntax (<<EOF) requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
  assert.equal(only('RUN echo a<<b').args[0], 'echo a<<b', 'a << inside a word is no heredoc');
  assert.equal(only('RUN ["cat", "<<EOF"]').json, true, 'exec form has no heredocs');
  assert.equal(only('CMD cat <<EOF').args[0], 'cat <<EOF', 'only RUN, COPY and ADD take heredocs');
});

test('HEALTHCHECK: config as dockerd builds it, durations in nanoseconds', () => {
  const hc = healthcheckConfig(only('HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD curl -f http://x/ || exit 1'));
  assert.deepEqual(hc, { Test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'], Interval: 5e9, Timeout: 90e9, StartPeriod: 0, StartInterval: 0, Retries: 3 });
  assert.deepEqual(healthcheckConfig(only('HEALTHCHECK CMD ["true"]')).Test, ['CMD', 'true']);
  assert.deepEqual(healthcheckConfig(only('HEALTHCHECK NONE')), { Test: ['NONE'] });
  refused('FROM a\nHEALTHCHECK NONE x', 'dockerfile parse error on line 2: HEALTHCHECK NONE takes no arguments');
  refused('FROM a\nHEALTHCHECK CMD', 'dockerfile parse error on line 2: Missing command after HEALTHCHECK CMD');
  refused('FROM a\nHEALTHCHECK RUN x', 'dockerfile parse error on line 2: Unknown type "RUN" in HEALTHCHECK (try CMD)');
  refused('FROM a\nHEALTHCHECK --interval=5 CMD x', 'dockerfile parse error on line 2: time: missing unit in duration "5"');
  refused('FROM a\nHEALTHCHECK --interval=1us CMD x', 'dockerfile parse error on line 2: Interval "interval" cannot be less than 1ms');
  refused('FROM a\nHEALTHCHECK --retries=-1 CMD x', 'dockerfile parse error on line 2: --retries cannot be negative (-1)');
  assert.equal(parseGoDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseGoDuration('.5ms'), 0.5e6);
  assert.throws(() => parseGoDuration('abc'), /time: invalid duration "abc"/);
  assert.throws(() => parseGoDuration('5x'), /time: unknown unit "x" in duration "5x"/);
});

test('splitStages: meta ARGs, named stages lower-cased, dockerd\'s errors', () => {
  const { metaArgs, stages } = splitStages(parseDockerfile('ARG V=1\nFROM busybox:$V AS Build\nRUN a\nFROM scratch\nCOPY --from=build /a /a\n'));
  assert.equal(metaArgs.length, 1);
  assert.deepEqual(stages.map(s => [s.name, s.from.args[0], s.body.map(b => b.cmd)]), [
    ['build', 'busybox:$V', ['run']],
    [undefined, 'scratch', ['copy']],
  ]);
  assert.throws(() => splitStages(parseDockerfile('RUN x\nFROM a')), /^Error: no build stage in current context$|no build stage in current context/);
  assert.throws(() => splitStages(parseDockerfile('FROM a AS x\nFROM b AS X')), /x stage name already used/);
});

test('expansion: $VAR, ${VAR}, defaults, alternates, quotes and escapes as dockerd\'s lexer does', () => {
  const env = new Map([['A', 'apple'], ['E', ''], ['SP', 'a  b']]);
  const cases: [string, string][] = [
    ['$A', 'apple'], ['${A}', 'apple'], ['x${A}y', 'xappley'], ['$Ax', ''], ['$NOPE', ''],
    ['${NOPE:-def}', 'def'], ['${E:-def}', 'def'], ['${E-def}', ''], ['${A:-def}', 'apple'],
    ['${A:+alt}', 'alt'], ['${E:+alt}', ''], ['${E+alt}', 'alt'], ['${NOPE+alt}', ''],
    ['${NOPE:-${A}}', 'apple'], ["'$A'", '$A'], ['"$A"', 'apple'], ['\\$A', '$A'], ['"\\$A"', '$A'],
    ['"a\\b"', 'a\\b'], ['a\\ b', 'a b'], ['$', '$'], ['${A#ap}', 'ple'], ['${A%le}', 'app'],
    ['${A##*p}', 'le'], ['${A/p/P}', 'aPple'], ['${A//p/P}', 'aPPle'], ['"${SP}"', 'a  b'],
  ];
  for (const [word, want] of cases) assert.equal(expandWord(word, env), want, word);
  assert.equal(expandWord('a`$b', new Map(), '`'), 'a$b', 'the backtick escape');
  assert.equal(expandWord('$A', ['A=from-list', 'B=x']), 'from-list', 'env as KEY=value lines');
  assert.deepEqual(expandWords('$SP "q  x" c', env), ['a', 'b', 'q  x', 'c']);
  assert.throws(() => expandWord('${A', env), /failed to process "\$\{A": syntax error: missing '}'/);
  assert.throws(() => expandWord('${}', env), /bad substitution/);
  assert.throws(() => expandWord('"open', env), /unexpected end of statement while looking for matching double-quote/);
  assert.throws(() => expandWord('${NOPE:?must be set}', env), /NOPE: must be set/);
  assert.throws(() => expandWord('${A:%x}', env), /unsupported modifier \(:%\) in substitution/);
});

test('expandInstruction: only the instructions dockerd expands, each as dockerd does', () => {
  const env = new Map([['D', '/app'], ['PORTS', '80 443'], ['U', 'nobody'], ['V', '1.2']]);
  const ins = (text: string) => expandInstruction(only(text), env, '\\');
  assert.deepEqual(ins('COPY --chown=$U $D/a "${D}/b" /dst/').args, ['/app/a', '/app/b', '/dst/']);
  assert.deepEqual(ins('COPY ["$D/b c", "/dst/"]').args, ['/app/b c', '/dst/'], 'exec form: spaces in a path');
  assert.throws(() => ins('COPY "$D/b c" /dst/'), /matching double-quote/, 'shell form splits on spaces first, as dockerd does');
  assert.equal(ins('COPY --chown=$U a b').flags.chown, 'nobody');
  assert.deepEqual(ins('WORKDIR $D/sub').args, ['/app/sub']);
  assert.deepEqual(ins('ENV X="$D and more" Y=$V').args, ['X', '/app and more', 'Y', '1.2']);
  assert.deepEqual(ins('LABEL version=$V').args, ['version', '1.2']);
  assert.deepEqual(ins('EXPOSE $PORTS').args, ['80', '443'], 'EXPOSE splits words');
  assert.deepEqual(ins('FROM busybox:${V:-latest}').args, ['busybox:1.2']);
  const arg = ins('ARG X=$D');
  assert.deepEqual([arg.args, arg.argDefaults], [['X', '/app'], ['/app']]);
  assert.deepEqual(ins('RUN echo $D').args, ['echo $D'], 'RUN is left for the shell');
  assert.deepEqual(ins('CMD echo $D').args, ['echo $D']);
  assert.deepEqual(ins('ONBUILD WORKDIR $D').args, ['WORKDIR $D'], 'a trigger is expanded when it runs');
  assert.deepEqual([...EXPANDED_INSTRUCTIONS].sort(), ['add', 'arg', 'copy', 'env', 'expose', 'from', 'label', 'stopsignal', 'user', 'volume', 'workdir']);
  assert.throws(() => ins('WORKDIR ${D'), (err: Error & { code?: string }) => err.code === 'E_INVALID' && /missing '}'/.test(err.message));
});

test('BuildKit-only flags are refused with the classic builder\'s message', () => {
  const msg = (flag: string) => `the --${flag} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`;
  const check = (text: string) => () => checkClassicFlags(only(text));
  for (const [text, flag] of [
    ['RUN --mount=type=cache,target=/root/.cache make', 'mount'],
    ['RUN --network=none make', 'network'],
    ['RUN --security=insecure make', 'security'],
    ['COPY --chmod=755 a /b', 'chmod'],
    ['COPY --chown=1 --chmod=755 a /b', 'chmod'],
    ['COPY --link a /b', 'link'],
    ['COPY --parents a /b', 'parents'],
    ['COPY --exclude=*.md a /b', 'exclude'],
    ['ADD --checksum=sha256:abc https://x/y /y', 'checksum'],
    ['ADD --keep-git-dir=true https://x/y.git /y', 'keep-git-dir'],
  ] as const) {
    assert.throws(check(text), (err: Error & { code?: string }) => err.message === msg(flag) && err.code === 'E_INVALID', text);
  }
  assert.doesNotThrow(check('COPY --from=build --chown=1:1 a /b'));
  assert.doesNotThrow(check('ADD --chown=1 a /b'));
  assert.doesNotThrow(check('RUN make'));
});
