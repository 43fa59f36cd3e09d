package dev.vfio.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The codec micro-benchmarks ({@link CodecKernels}) through JMH, in a forked JVM for a full run;
 * each measurement iteration counts as one run, and every kernel is set against the memory copy of
 * the same chunk in the same fork.
 */
final class CodecBenchmark implements Benchmark {
  static final String NAME = "codec";
  static final String SCENARIO = "1 MiB chunk";
  static final String THROUGHPUT = "throughput";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void run(Settings settings, Results results) throws Exception {
    OptionsBuilder options = new OptionsBuilder();
    options
        .include(CodecKernels.class.getName().replace(".", "\\.") + "\\.")
        .mode(org.openjdk.jmh.annotations.Mode.Throughput)
        .timeUnit(TimeUnit.SECONDS)
        .shouldFailOnError(true);
    if (settings.jmhSeconds() == 0) {
      // The smoke form: in this JVM, one short iteration, only to show that every kernel runs.
      options
          .forks(0)
          .warmupIterations(0)
          .measurementIterations(1)
          .measurementTime(TimeValue.milliseconds(100));
    } else {
      options
          .forks(1)
          .warmupIterations(2)
          .warmupTime(TimeValue.seconds(settings.jmhSeconds()))
          .measurementIterations(Math.max(3, settings.runs()))
          .measurementTime(TimeValue.seconds(settings.jmhSeconds()))
          .jvmArgs("-Xmx512m");
    }
    Options built = options.build();
    Collection<RunResult> runs = new Runner(built).run();
    List<String> kernels = new ArrayList<>();
    for (RunResult run : runs) {
      String kernel = run.getParams().getBenchmark();
      kernel = kernel.substring(kernel.lastIndexOf('.') + 1);
      kernels.add(kernel);
      for (BenchmarkResult fork : run.getBenchmarkResults()) {
        for (IterationResult iteration : fork.getIterationResults()) {
          // One operation is one chunk of 1 MiB: operations per second are MiB per second.
          results.record(
              NAME, SCENARIO, kernel, THROUGHPUT, "MiB/s", iteration.getPrimaryResult().getScore());
        }
      }
    }
    for (String kernel : kernels) {
      if (!kernel.equals("copy")) {
        results.compare(NAME, SCENARIO, kernel, "copy", THROUGHPUT, Double.NaN);
      }
    }
  }
}
