// docker build with the classic builder (DOCKER_BUILDKIT=0) on both daemons: the cold build of a
// 10-step two-stage Dockerfile (RUN steps that write a few MB, a COPY of a 1,000-file context)
// with --no-cache, and the fully cached rebuild of it (medians of 3 on one daemon each).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, type Benchmark } from './benchmark.js';
import { withBusybox } from './busybox-daemon.js';
import { scratchDir } from './daemons.js';
import { dockerOk } from './docker-cli.js';
import { withBuilderEnv } from '../helpers/build.js';

const RUNS = 3;
const FILES = 1000;

const DOCKERFILE = `FROM busybox AS build
WORKDIR /work
RUN busybox dd if=/dev/urandom of=/work/a.bin bs=1024 count=4096 2>/dev/null
RUN busybox dd if=/dev/urandom of=/work/b.bin bs=1024 count=4096 2>/dev/null
COPY files/ /work/files/
RUN cat /work/files/* | busybox wc -c > /work/total.txt
FROM busybox
COPY --from=build /work/total.txt /app/total.txt
COPY --from=build /work/a.bin /app/a.bin
CMD ["cat", "/app/total.txt"]
`;

let context: string | undefined;
/** Written once per bench run and shared by both daemons. */
function buildContext(): string {
  if (context) return context;
  const dir = scratchDir('build-context');
  mkdirSync(join(dir, 'files'));
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, 'files', `f${String(i).padStart(4, '0')}.txt`), `file ${i}\n`.repeat(32));
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  return (context = dir);
}

export const build: Benchmark = {
  name: 'build',
  metrics: ['buildColdMs', 'buildCachedMs'],
  async run(spec) {
    const dir = buildContext();
    return withBuilderEnv(true, () => withBusybox(spec, async (d) => {
      // RUN steps without a network on both (the bench's dockerd has no bridge).
      const args = ['build', '--network', 'none', '-t', 'bench-build:1', dir];
      const cold: number[] = [];
      for (let i = 0; i < RUNS; i++) cold.push((await dockerOk(d, [...args.slice(0, 1), '--no-cache', ...args.slice(1)], 300_000)).ms);
      const cached: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await dockerOk(d, args, 300_000);
        if ((r.stdout.match(/Using cache/g) ?? []).length !== 8) throw new Error(`the rebuild did not use the cache for every step:\n${r.stdout}`);
        cached.push(r.ms);
      }
      await dockerOk(d, ['rmi', 'bench-build:1']);
      return { buildColdMs: median(cold), buildCachedMs: median(cached) };
    }));
  },
};
