// One classic build: stages in order (only those the target needs), each instruction a step whose
// result is an image: from the cache, or made in a container and committed, as dockerd's builder.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { invalid, type EngineFacade } from '../../core/plugin-api.js';
import type { ContainerConfig, Images } from '../image-store/index.js';
import { familiarString, normalize } from '../../lib/image-reference.js';
import { authFromBody } from '../../lib/registry-auth.js';
import { BuildCache } from './cache.js';
import { openContext, type BuildContext } from './context/index.js';
import { expandInstruction, expandWord, parseDockerfile, splitStages, type Instruction, type Stage } from './dockerfile/index.js';
import { dispatch, runTriggers } from './instructions.js';
import type { BuildOptions } from './options.js';
import { BuildOutput, shortId } from './output.js';
import { StepContainers } from './step-containers.js';
export { StepError } from './step-containers.js';
import { DEFAULT_SHELL, expansionEnv, PREDEFINED_ARGS, type StageState } from './stage-state.js';

export interface BuildDeps {
  engine: EngineFacade;
  images: () => Images;
  log: Logger;
  /** A folder for this build's context and scratch files. */
  workDir: string;
  /** Records a step image the build made (the build cache), before the build goes on. */
  stepCommitted: (imageId: string) => Promise<void>;
  /** Steps being made by any build, by cache key: the same step waits for it and takes its image. */
  stepsInFlight: Map<string, Promise<unknown>>;
}

export interface StepOptions {
  /**
   * Whether the step's container is the user's business (default): "Running in", "Removing
   * intermediate container", kept with rm=false. COPY and ADD say false: dockerd writes them into a
   * read-write layer of the image, with no container to show; Berth's is an implementation detail.
   */
  announce?: boolean;
}

/** A step's work in its container; a tar it returns is added to the step's layer after the container's changes. */
export type StepWork = (id: string) => Promise<void | Readable>;

const commandText = (i: Instruction) => i.original;

export class Build {
  readonly id = randomBytes(16).toString('hex');
  readonly containers: StepContainers;
  readonly cache: BuildCache;
  /** Build args some ARG declared (the others get the not-consumed warning). */
  readonly consumed = new Set<string>();
  /** Meta ARGs (before the first FROM) and their values, for FROM and stages that re-declare them. */
  readonly metaArgs = new Map<string, string | undefined>();
  readonly results = new Map<string, string>();
  /** The build context (set once it is open). */
  context?: BuildContext;
  private cacheBusted = false;

  constructor(readonly deps: BuildDeps, readonly opts: BuildOptions, readonly out: BuildOutput, readonly signal: AbortSignal) {
    const host = {
      NetworkMode: opts.networkMode === 'default' ? 'default' : opts.networkMode,
      ...(opts.extraHosts.length ? { ExtraHosts: opts.extraHosts } : {}),
      ...(opts.shmSize ? { ShmSize: opts.shmSize } : {}),
      ...(opts.memory ? { Memory: opts.memory } : {}),
      ...(opts.memorySwap ? { MemorySwap: opts.memorySwap } : {}),
      ...(opts.cpuShares ? { CpuShares: opts.cpuShares } : {}),
      ...(opts.cpuPeriod ? { CpuPeriod: opts.cpuPeriod } : {}),
      ...(opts.cpuQuota ? { CpuQuota: opts.cpuQuota } : {}),
      ...(opts.cpusetCpus ? { CpusetCpus: opts.cpusetCpus } : {}),
      ...(opts.cpusetMems ? { CpusetMems: opts.cpusetMems } : {}),
      ...(opts.cgroupParent ? { CgroupParent: opts.cgroupParent } : {}),
      ...(opts.ulimits.length ? { Ulimits: opts.ulimits } : {}),
    };
    this.containers = new StepContainers(deps.engine, this.id, host, signal);
    this.cache = new BuildCache(deps.images(), opts.cacheFrom, (message) => deps.log.warn(message));
  }

  /** The escape character of the Dockerfile (`# escape=`). */
  escape = '\\';

  /** The variables in effect: a stage's ARGs and ENV, or (FROM) the meta ARGs. */
  private env(s: StageState | undefined): Map<string, string> {
    if (s) return new Map(Object.entries(expansionEnv(s)));
    const env = new Map<string, string>();
    for (const [k, v] of this.metaArgs) if (v !== undefined) env.set(k, v);
    return env;
  }

  expand(s: StageState | undefined, word: string): string {
    try {
      return expandWord(word, this.env(s), this.escape);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  }

  /** The instruction with its words expanded where dockerd expands them. */
  expandInstruction(s: StageState | undefined, i: Instruction): Instruction {
    return expandInstruction(i, this.env(s), this.escape);
  }

  /** Runs the build; the final image's ID. Containers it made are gone when it returns or throws. */
  async run(body: Readable | undefined): Promise<string> {
    const tags = this.opts.tags.map((t) => {
      try {
        const ref = normalize(t);
        if (ref.digest) throw new Error('digest');
        return familiarString(ref.tag ? ref : { ...ref, tag: 'latest' });
      } catch {
        throw invalid(`invalid reference format: ${t}`);
      }
    });
    const ctx = await openContext({
      tmpDir: this.deps.workDir, body, dockerfile: this.opts.dockerfile, signal: this.signal, lazy: true,
      ...(this.opts.remote ? { remote: this.opts.remote } : {}),
    });
    this.context = ctx;
    try {
      const parsed = parseDockerfile(await ctx.readDockerfile(), ctx.dockerfileName);
      this.escape = parsed.escape;
      if (!parsed.instructions.length) throw invalid(`the Dockerfile (${this.opts.dockerfile}) cannot be empty`);
      for (const w of parsed.warnings) this.out.stream(`${w}\n`);
      const { metaArgs, stages } = splitStages(parsed);
      if (!stages.length) throw invalid('No build stage in current context');
      const needed = this.neededStages(stages);
      const labelStep = this.labelInstruction();
      const total = metaArgs.length + needed.reduce((n, i) => n + 1 + stages[i].body.length, 0) + (labelStep ? 1 : 0);
      let step = 1;
      const print = (i: Instruction) => {
        this.out.stream(`Step ${step++}/${total} : ${commandText(i)}`);
        this.out.stream('\n');
      };
      for (const a of metaArgs) {
        print(a);
        const e = this.expandInstruction(undefined, a);
        for (let k = 0; k + 1 < e.args.length; k += 2) {
          const key = e.args[k];
          const dflt = e.argDefaults?.[k / 2] ?? undefined;
          const given = this.opts.buildArgs[key];
          this.metaArgs.set(key, given !== undefined && given !== null ? given : dflt);
          this.consumed.add(key);
        }
      }
      let last: StageState | undefined;
      for (const index of needed) {
        if (this.signal.aborted) throw new Error('build cancelled');
        const stage = stages[index];
        print(stage.from);
        const s = await this.fromStage(stage);
        this.out.stream(` ---> ${shortId(s.imageId)}\n`);
        await runTriggers(this, s);
        const body = index === needed[needed.length - 1] && labelStep ? [...stage.body, labelStep] : stage.body;
        for (const i of body) {
          if (this.signal.aborted) throw new Error('build cancelled');
          print(i);
          await dispatch(this, s, i);
          this.out.stream(` ---> ${shortId(s.imageId)}\n`);
        }
        this.out.aux(s.imageId);
        this.results.set(String(index), s.imageId);
        if (stage.name) this.results.set(stage.name, s.imageId);
        last = s;
      }
      const unused = Object.keys(this.opts.buildArgs).filter((k) => !this.consumed.has(k) && !PREDEFINED_ARGS.has(k)).sort();
      if (unused.length) this.out.stream(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
      const id = last!.imageId;
      this.out.stream(`Successfully built ${shortId(id)}\n`);
      for (const t of tags) {
        await this.deps.engine.run('image.tag', { name: id, repo: t.slice(0, t.lastIndexOf(':')), tag: t.slice(t.lastIndexOf(':') + 1) });
        this.out.stream(`Successfully tagged ${t}\n`);
      }
      this.out.quietResult(id);
      return id;
    } finally {
      await ctx.cleanup().catch(() => {});
    }
  }

  /** --label: dockerd adds a LABEL instruction after the last one. */
  private labelInstruction(): Instruction | undefined {
    const keys = Object.keys(this.opts.labels).sort();
    if (!keys.length) return undefined;
    const args = keys.flatMap((k) => [k, this.opts.labels[k]]);
    return { cmd: 'label', original: `LABEL ${keys.map((k) => `${JSON.stringify(k)}='${this.opts.labels[k]}'`).join(' ')}`, line: 0, flags: {}, args, json: false };
  }

  /** The stages the target (the last one by default) needs, in order: FROM and COPY --from. */
  private neededStages(stages: Stage[]): number[] {
    let target = stages.length - 1;
    if (this.opts.target) {
      target = stages.findIndex((s) => s.name === this.opts.target!.toLowerCase());
      if (target < 0) throw invalid(`failed to reach build target ${this.opts.target} in Dockerfile`);
    }
    const byName = (ref: string, before: number) => {
      const lower = ref.toLowerCase();
      const i = stages.findIndex((s, k) => k < before && (s.name === lower || String(k) === lower));
      return i;
    };
    const need = new Set<number>();
    const visit = (i: number) => {
      if (need.has(i)) return;
      need.add(i);
      const base = byName(this.expandInstruction(undefined, stages[i].from).args[0] ?? '', i);
      if (base >= 0) visit(base);
      for (const ins of stages[i].body) {
        const from = ins.flags.from;
        if ((ins.cmd === 'copy') && from) {
          const dep = byName(from, i);
          if (dep >= 0) visit(dep);
        }
      }
    };
    visit(target);
    return [...need].sort((a, b) => a - b);
  }

  private async fromStage(stage: Stage): Promise<StageState> {
    const from = this.expandInstruction(undefined, stage.from);
    const platform = from.flags.platform;
    if (platform && !/^linux(\/|$)/.test(platform)) throw invalid(`FROM --platform=${platform}: Berth builds for linux only`);
    const ref = from.args[0] ?? '';
    if (!ref) throw invalid('FROM requires either one or three arguments');
    const s: StageState = { ...(stage.name ? { name: stage.name } : {}), imageId: '', runConfig: {}, args: new Map(), cmdSet: false };
    this.cacheBusted = false;
    const fromStage = this.results.get(ref.toLowerCase());
    let imageId: string;
    if (fromStage) imageId = fromStage;
    else if (ref === 'scratch') imageId = await this.scratchImage();
    else imageId = await this.baseImage(ref);
    const image = this.deps.images().db.get(imageId)!;
    s.imageId = imageId;
    s.runConfig = structuredClone(image.config.config ?? {});
    if (!s.runConfig.Env?.length && ref === 'scratch') s.runConfig.Env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
    return s;
  }

  /** FROM scratch: an image of no layers stands for "nothing" (its ID is the same every time). */
  private async scratchImage(): Promise<string> {
    const config = { architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
    const raw = Buffer.from(JSON.stringify(config));
    const images = this.deps.images();
    const existing = images.db.all().find((i) => i.raw.equals(raw));
    return existing ? existing.id : (await images.db.create(raw)).id;
  }

  /** A FROM (or COPY --from) image: the local one, else (or with pull) pulled with X-Registry-Config's credentials. */
  async baseImage(ref: string): Promise<string> {
    const images = this.deps.images();
    const local = images.find(ref);
    if (local && !this.opts.pull) return local.id;
    if (!this.deps.engine.has('image.pull')) {
      if (local) return local.id;
      throw invalid(`pull access denied for ${ref}: no registry plugin is loaded`);
    }
    const r = normalize(ref);
    const domain = r.name.split('/')[0];
    const registry = domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
    const auth = authFromBody(this.opts.registryAuth[registry] ?? this.opts.registryAuth[domain] ?? this.opts.registryAuth[`https://${domain}`]);
    const job = this.deps.engine.job('image.pull', {
      fromImage: r.name, ...(r.digest ? { tag: r.digest } : { tag: r.tag ?? 'latest' }),
      ...(auth ? { auth } : {}),
    }, { signal: this.signal });
    job.stdout.on('data', (chunk: Buffer) => { for (const line of chunk.toString().split('\n')) this.out.raw(line); });
    await job.run();
    const pulled = images.find(ref);
    if (!pulled) throw invalid(`No such image: ${ref}`);
    return pulled.id;
  }

  /**
   * One step: the cached image for `probe` on the stage's image, or a container made from
   * `create` (default `probe`), `work` done in it, committed with `probe` as container_config.
   */
  async step(s: StageState, probe: ContainerConfig, work?: StepWork, create: ContainerConfig = probe, opts: StepOptions = {}): Promise<void> {
    // One lock per cache entry: a build making this very step now is waited for, then the cache asked.
    const key = `${s.imageId} ${JSON.stringify(probe)}`;
    for (let other = this.deps.stepsInFlight.get(key); other; other = this.deps.stepsInFlight.get(key)) await other.catch(() => {});
    const mine = this.makeStep(s, probe, work, create, opts);
    this.deps.stepsInFlight.set(key, mine);
    try {
      await mine;
    } finally {
      if (this.deps.stepsInFlight.get(key) === mine) this.deps.stepsInFlight.delete(key);
    }
  }

  private async makeStep(s: StageState, probe: ContainerConfig, work: StepWork | undefined, create: ContainerConfig, opts: StepOptions): Promise<void> {
    const announce = opts.announce !== false;
    if (!this.opts.nocache && !this.cacheBusted) {
      const hit = await this.cache.probe(s.imageId, probe);
      if (hit) {
        this.out.stream(' ---> Using cache\n');
        s.imageId = hit;
        return;
      }
    }
    this.cacheBusted = true;
    const id = await this.containers.create(create, s.imageId);
    if (announce) this.out.stream(` ---> Running in ${shortId(id)}\n`);
    let imageId: string;
    const removeNow = this.opts.rm || this.opts.forceRm || !announce;
    try {
      const append = work ? await work(id) : undefined;
      if (this.signal.aborted) throw new Error('build cancelled');
      const config = { ...structuredClone(s.runConfig), Image: s.imageId };
      imageId = await this.containers.commit(id, config, { ...probe, Image: s.imageId }, s.author, append || undefined);
      // Recording the step image and removing its container are independent: both at once.
      const [recorded, removed] = await Promise.allSettled([this.deps.stepCommitted(imageId), removeNow ? this.containers.remove(id) : undefined]);
      if (recorded.status === 'rejected') throw recorded.reason;
      if (removed.status === 'rejected') throw removed.reason;
    } catch (err) {
      // A failed step's container stays only with rm=false (and no forcerm), unless the build was cancelled.
      if (this.opts.rm || this.opts.forceRm || this.signal.aborted || !announce) await this.containers.remove(id).catch(() => {});
      else this.containers.live.delete(id);
      throw err;
    }
    if (removeNow) {
      if (announce) this.out.stream(`Removing intermediate container ${shortId(id)}\n`);
    } else this.containers.live.delete(id);
    s.imageId = imageId;
  }

  /** dockerd's commit(): a metadata step, its Cmd the shell and "#(nop) " then the comment. */
  async commitMeta(s: StageState, comment: string): Promise<void> {
    await this.step(s, { ...structuredClone(s.runConfig), Cmd: [...(s.runConfig.Shell ?? DEFAULT_SHELL), '#(nop) ', comment] });
  }

  /** The shell form of an instruction: the stage's SHELL and the text. */
  shellCmd(s: StageState, i: Instruction): string[] {
    return i.json ? i.args : [...(s.runConfig.Shell ?? DEFAULT_SHELL), i.args[0] ?? ''];
  }

  scratchDir(name: string): string {
    return join(this.deps.workDir, name);
  }
}

