// The engine and the jobRun hook, tested directly on the core classes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Engine } from '../core/engine.js';
import { BerthError } from '../core/errors.js';
import { createCoreHooks, isolateTaps } from '../core/hooks.js';

function makeEngine() {
  const hooks = createCoreHooks();
  const log = pino({ level: 'silent' });
  isolateTaps(hooks.jobRun.after, log, 'after');
  return { hooks, engine: new Engine(hooks, log) };
}

test('a registered handler runs as a job and returns its result', async () => {
  const { engine } = makeEngine();
  engine.register<{ a: number; b: number }, number>('add', { run: (job) => job.payload.a + job.payload.b });
  const job = engine.job<{ a: number; b: number }, number>('add', { a: 2, b: 3 });
  assert.equal(await job.run(), 5);
  assert.equal(job.status, 0);
  assert.equal(job.result, 5);
});

test('a duplicate handler name is refused unless wrapped explicitly', async () => {
  const { engine } = makeEngine();
  engine.register('greet', { run: () => 'hi' }, 'plugin-a');
  assert.throws(() => engine.register('greet', { run: () => 'yo' }, 'plugin-b'), (err: BerthError) =>
    err.code === 'E_CONFLICT' && /already registered by plugin-a/.test(err.message) && /plugin-b/.test(err.message));
  engine.wrap('greet', (prev) => ({ run: async (job) => `${await prev.run(job)}!` }), 'plugin-b');
  assert.equal(await engine.run('greet'), 'hi!');
  assert.throws(() => engine.wrap('nope', (p) => p), /not registered/);
});

test('unknown jobs go to the catch-all handler', async () => {
  const { engine } = makeEngine();
  await assert.rejects(engine.run('missing.job'), (err: BerthError) => err.code === 'E_NOT_FOUND' && /no such job: missing.job/.test(err.message));
  engine.setCatchAll({ run: (job) => `caught ${job.name}` });
  assert.equal(await engine.run('anything'), 'caught anything');
});

test('the built-in commands job lists registered handlers with their plugin', async () => {
  const { engine } = makeEngine();
  engine.register('zeta', { description: 'last', run: () => 1 }, 'p1');
  engine.register('alpha', { description: 'first', run: () => 1 }, 'p2');
  const list = await engine.run<{ name: string; plugin: string; description: string; schema: boolean }[]>('commands');
  const names = list.map((c) => c.name);
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes('commands'));
  assert.deepEqual(list.find((c) => c.name === 'alpha'), { name: 'alpha', plugin: 'p2', description: 'first', schema: false });
  assert.equal(list.find((c) => c.name === 'commands')?.schema, true);
});

test('a payload that violates the handler schema is refused before the handler runs', async () => {
  const { engine } = makeEngine();
  let ran = false;
  engine.register('resize', {
    schema: { type: 'object', required: ['h', 'w'], properties: { h: { type: 'integer', minimum: 1 }, w: { type: 'integer' } } },
    run: () => { ran = true; },
  });
  await assert.rejects(engine.run('resize', { h: 0 }), (err: BerthError) =>
    err.code === 'E_INVALID' && err.statusCode === 400 && /resize/.test(err.message) && /h: must be >= 1/.test(err.message) && /w: is required/.test(err.message));
  assert.equal(ran, false);
  await engine.run('resize', { h: 1, w: 2 });
  assert.equal(ran, true);
});

test('jobRun.before can veto a job; the handler never runs and error taps see it', async () => {
  const { engine, hooks } = makeEngine();
  let ran = false;
  const errors: string[] = [];
  engine.register('container.delete', { run: () => { ran = true; } });
  hooks.jobRun.before.tapPromise('policy', async (job) => {
    if (job.name === 'container.delete') throw new BerthError('E_DENIED', 'authorization denied by plugin policy');
  });
  hooks.jobRun.error.tap('audit', (job, err) => { errors.push(`${job.name}: ${err.message}`); });
  const job = engine.job('container.delete');
  await assert.rejects(job.run(), (err: BerthError) => err.statusCode === 403);
  assert.equal(ran, false);
  assert.equal(job.status, 1);
  assert.deepEqual(errors, ['container.delete: authorization denied by plugin policy']);
});

test('jobRun.before can change the job before the handler sees it', async () => {
  const { engine, hooks } = makeEngine();
  engine.register<{ name: string }, string>('echo', { run: (job) => `${job.payload.name} ${job.args.join(' ')}` });
  hooks.jobRun.before.tap('rewrite', (job) => {
    (job.payload as { name: string }).name = 'changed';
    job.args = ['with', 'args'];
  });
  assert.equal(await engine.run('echo', { name: 'original' }), 'changed with args');
});

test('jobRun.after sees status and duration of every job, successful or not', async () => {
  const { engine, hooks } = makeEngine();
  const seen: { name: string; status?: number; ms: number; error?: string }[] = [];
  hooks.jobRun.after.tap('observe', (job) => { seen.push({ name: job.name, status: job.status, ms: job.durationMs, error: job.error?.message }); });
  engine.register('slow', { run: () => new Promise((r) => setTimeout(() => r('done'), 30)) });
  engine.register('fails', { run: () => { throw new Error('disk full'); } });
  await engine.run('slow');
  await assert.rejects(engine.run('fails'), /disk full/);
  assert.equal(seen.length, 2);
  assert.equal(seen[0].name, 'slow');
  assert.equal(seen[0].status, 0);
  assert.ok(seen[0].ms >= 25, `duration ${seen[0].ms} should cover the 30 ms handler`);
  assert.deepEqual({ ...seen[1], ms: 0 }, { name: 'fails', status: 1, ms: 0, error: 'disk full' });
});

test('a failing jobRun.after tap does not fail the job', async () => {
  const { engine, hooks } = makeEngine();
  hooks.jobRun.after.tap('broken-observer', () => { throw new Error('observer bug'); });
  engine.register('ok', { run: () => 42 });
  assert.equal(await engine.run('ok'), 42);
});

test('job streams: the handler writes stdout and readers see EOF when the job ends', async () => {
  const { engine } = makeEngine();
  engine.register('logs', { run: (job) => { job.stdout.write('line 1\n'); job.stderr.write('oops\n'); job.stdout.write('line 2\n'); } });
  const job = engine.job('logs');
  const out: Buffer[] = [];
  job.stdout.on('data', (c) => out.push(c));
  const ended = new Promise((r) => job.stdout.on('end', r));
  await job.run();
  await ended;
  assert.equal(Buffer.concat(out).toString(), 'line 1\nline 2\n');
});

test('events emitted by a job are kept on the job for publishing', async () => {
  const { engine } = makeEngine();
  engine.register('tag', { run: (job) => job.emit({ Type: 'image', Action: 'tag', Actor: { ID: 'sha256:1', Attributes: { name: 'x:1' } } }) });
  const job = engine.job('tag');
  await job.run();
  assert.deepEqual(job.events.map((e) => `${e.Type} ${e.Action}`), ['image tag']);
});

test('after shutdown begins new jobs are refused, running ones drain, and long jobs see the abort', async () => {
  const { engine } = makeEngine();
  let release!: () => void;
  engine.register('work', { run: () => new Promise<void>((r) => { release = r; }) });
  engine.register('stream', {
    run: (job) => new Promise<string>((r) => {
      if (job.signal.aborted) return r('aborted');
      job.signal.addEventListener('abort', () => r('aborted'));
    }),
  });
  const work = engine.run('work');
  const stream = engine.run('stream');
  engine.beginShutdown();
  assert.equal(await stream, 'aborted');
  await assert.rejects(engine.run('work'), (err: BerthError) => err.statusCode === 503 && /shutting down/.test(err.message));
  let drained = false;
  const drain = engine.drain(new AbortController().signal).then(() => { drained = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(drained, false, 'drain must wait for the running job');
  release();
  await work;
  await drain;
  assert.equal(engine.inflightCount, 0);
});

test('registerHandler hook can wrap every handler as it is registered, or reject it', async () => {
  const { engine, hooks } = makeEngine();
  hooks.registerHandler.tap('trace', (entry) => {
    if (entry.name.startsWith('forbidden.')) throw new Error(`handler ${entry.name} is not allowed`);
    const inner = entry.spec;
    return { ...entry, spec: { ...inner, run: async (job) => `[${await inner.run(job)}]` } };
  });
  engine.register('hello', { run: () => 'hi' });
  assert.equal(await engine.run('hello'), '[hi]');
  assert.throws(() => engine.register('forbidden.thing', { run: () => 1 }), /not allowed/);
  assert.equal(engine.has('forbidden.thing'), false);
});
