package dev.vfio.bench;

/** One benchmark of the suite: measures its variants and baselines in the same run. */
interface Benchmark {
  /** The name on the command line and in the results. */
  String name();

  /** Measures every variant {@code settings.runs()} times, recording into {@code results}. */
  void run(Settings settings, Results results) throws Exception;
}
