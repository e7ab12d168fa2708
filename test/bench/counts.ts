// How many times the container benchmarks repeat. BENCH_QUICK=1 shrinks the repetitions (not the
// container counts the metrics are defined by) for a fast check that everything works.
const quick = process.env.BENCH_QUICK === '1';

export const COUNTS = {
  warmups: quick ? 1 : 2,
  /** Daemon launches for start-up and shutdown times (each a median: a start is tens of ms, noisy). */
  launches: quick ? 7 : 15,
  /** Serial `docker run --rm` (and bare `runc run`) timings. */
  runs: quick ? 3 : 15,
  parallel: 20,
  parallelRounds: quick ? 1 : 3,
  phaseRounds: quick ? 3 : 10,
  runningContainers: 50,
  listedContainers: 100,
  authzContainers: 10,
  /** Rounds of the authz benchmark, each measuring its three daemons in turn. */
  authzRounds: quick ? 2 : 5,
  /** docker pull runs per daemon, each beside one run of the floor (curl + tar). */
  pullRuns: quick ? 1 : 5,
};
