package dev.vfio.bench;

import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobStreamReader;
import dev.vfio.agent.blobs.BlobStreamWriter;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import dev.vfio.agent.transport.IncomingStream;
import dev.vfio.agent.transport.OutgoingStream;
import dev.vfio.agent.transport.StreamListener;
import dev.vfio.agent.transport.StreamSender;
import dev.vfio.agent.transport.TransportCredentials;
import dev.vfio.agent.vfio.MigrationState;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * Live transfer: agent to agent over loopback with mutual TLS ({@link StreamSender}, {@link
 * StreamListener}, {@link BlobStreamWriter}, {@link BlobStreamReader}), against a plain TLS 1.3
 * socket copy of the same bytes with the same credentials, in the same JVM; one device and several
 * in parallel. A third variant streams from a simulated device into another, to show what the
 * simulator adds on top.
 */
final class TransferBenchmark implements Benchmark {
  static final String NAME = "transfer";
  static final String AGENT = "agent stream";
  static final String PLAIN = "plain TLS copy";
  static final String DEVICES = "device to device";
  static final String THROUGHPUT = "throughput";

  /** CPU time per GiB, both ends together: what a loaded machine cannot hide. */
  static final String CPU = "CPU per GiB";

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  /** What a plain copy hands the socket per write: large, so the copy is the limit. */
  private static final int PLAIN_WRITE_BYTES = 1 << 20;

  private static final int PLAIN_READ_BYTES = 64 * 1024;
  private static final int PATTERN_BYTES = 1 << 20;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void run(Settings settings, Results results) throws Exception {
    TransportCredentials credentials = LoopbackCredentials.issue();
    SSLContext context = credentials.sslContext();
    byte[] pattern = new byte[PATTERN_BYTES];
    new SplittableRandom(6).nextBytes(pattern);
    Path work = Files.createDirectories(settings.work().resolve(NAME));
    List<String> names = List.of(PLAIN, AGENT, DEVICES);
    // The JIT compiles the paths before anything is timed.
    long warmUp = Math.min(settings.transferBytes(), 64 * Settings.MIB);
    for (int pass = 0; pass < 2; pass++) {
      for (String name : names) {
        transfer(name, credentials, context, pattern, 1, warmUp, work);
      }
    }
    for (int devices : settings.transferDevices()) {
      String scenario = devices + " x " + Settings.size(settings.transferBytes());
      for (int run = 0; run < settings.runs(); run++) {
        for (int i = 0; i < names.size(); i++) {
          String name = names.get((i + run) % names.size());
          long cpuBefore = CpuTime.process();
          double seconds =
              transfer(
                  name, credentials, context, pattern, devices, settings.transferBytes(), work);
          double gib = devices * (double) settings.transferBytes() / Settings.GIB;
          results.record(NAME, scenario, name, THROUGHPUT, "MiB/s", gib * 1024 / seconds);
          results.record(
              NAME, scenario, name, CPU, "CPU s/GiB", (CpuTime.process() - cpuBefore) / 1e9 / gib);
        }
      }
      results.compare(NAME, scenario, AGENT, PLAIN, THROUGHPUT, 0.8);
      results.compare(NAME, scenario, DEVICES, PLAIN, THROUGHPUT, Double.NaN);
      results.compare(NAME, scenario, AGENT, PLAIN, CPU, Double.NaN);
    }
  }

  private static double transfer(
      String name,
      TransportCredentials credentials,
      SSLContext context,
      byte[] pattern,
      int devices,
      long bytes,
      Path work)
      throws Exception {
    SaveBenchmark.clear(work);
    return switch (name) {
      case PLAIN -> plainCopy(context, pattern, devices, bytes);
      case AGENT -> agentStream(credentials, pattern, devices, bytes, null);
      default -> agentStream(credentials, pattern, devices, bytes, work);
    };
  }

  /** The limit: TLS 1.3 sockets with the agents' credentials, bytes in, bytes out, one ack. */
  private static double plainCopy(SSLContext context, byte[] pattern, int devices, long bytes)
      throws Exception {
    try (SSLServerSocket server =
        (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50, LOOPBACK)) {
      server.setEnabledProtocols(new String[] {TransportCredentials.PROTOCOL});
      server.setNeedClientAuth(true);
      List<Callable<Void>> work = new ArrayList<>();
      work.add(
          () -> {
            List<Callable<Void>> receivers = new ArrayList<>();
            for (int i = 0; i < devices; i++) {
              SSLSocket socket = (SSLSocket) server.accept();
              receivers.add(
                  () -> {
                    try (socket) {
                      InputStream in = socket.getInputStream();
                      byte[] buffer = new byte[PLAIN_READ_BYTES];
                      for (long got = 0; got < bytes; ) {
                        int n = in.read(buffer);
                        if (n < 0) {
                          throw new EOFException("plain copy ended after " + got + " bytes");
                        }
                        got += n;
                      }
                      socket.getOutputStream().write(1);
                      socket.getOutputStream().flush();
                    }
                    return null;
                  });
            }
            inParallel(receivers);
            return null;
          });
      for (int i = 0; i < devices; i++) {
        work.add(
            () -> {
              try (SSLSocket socket =
                  (SSLSocket)
                      context.getSocketFactory().createSocket(LOOPBACK, server.getLocalPort())) {
                socket.setEnabledProtocols(new String[] {TransportCredentials.PROTOCOL});
                socket.startHandshake();
                OutputStream out = socket.getOutputStream();
                for (long sent = 0; sent < bytes; ) {
                  int n = (int) Math.min(PLAIN_WRITE_BYTES, bytes - sent);
                  out.write(pattern, 0, n);
                  sent += n;
                }
                out.flush();
                if (socket.getInputStream().read() != 1) {
                  throw new IOException("plain copy not acknowledged");
                }
              }
              return null;
            });
      }
      long start = System.nanoTime();
      inParallel(work);
      return (System.nanoTime() - start) / 1e9;
    }
  }

  /**
   * The agent's path: listener, sender, blob stream on both ends, timed until every receiver has
   * taken its blob whole (the agents send no acknowledgement: the switchover is the operator's
   * decision). With a {@code deviceDirectory}, the state comes out of simulated devices and goes
   * into others; without, it is the same pattern the plain copy sends, and the receiver drops it
   * once checked.
   */
  private static double agentStream(
      TransportCredentials credentials,
      byte[] pattern,
      int devices,
      long bytes,
      Path deviceDirectory)
      throws Exception {
    byte[] secret = new byte[16];
    new SplittableRandom().nextBytes(secret);
    String token = HexFormat.of().formatHex(secret);
    ByteBuffer state = ByteBuffer.allocateDirect(pattern.length).put(pattern).flip();
    List<BenchDevice> sources = new ArrayList<>();
    List<BenchDevice> targets = new ArrayList<>();
    if (deviceDirectory != null) {
      for (int i = 0; i < devices; i++) {
        sources.add(BenchDevice.open(deviceDirectory.resolve("source"), address(0x3b, i), bytes));
        targets.add(BenchDevice.open(deviceDirectory.resolve("target"), address(0xaf, i), bytes));
      }
    }
    try (StreamListener listener =
        StreamListener.open(
            credentials, LOOPBACK, 0, LoopbackCredentials.NODE, token, Long.MAX_VALUE, PATIENCE)) {
      List<Callable<Void>> work = new ArrayList<>();
      for (int i = 0; i < devices; i++) {
        BenchDevice target = deviceDirectory == null ? null : targets.get(i);
        work.add(
            () -> {
              try (IncomingStream stream = listener.accept(PATIENCE)) {
                BlobStreamReader reader = BlobStreamReader.open(stream.data(), "bench stream");
                if (target == null) {
                  reader.copyTo(chunk -> chunk.position(chunk.limit()));
                } else {
                  reader.requireCompatibleWith(target.device().spec().identity());
                  target.resuming();
                  reader.copyTo(target.machine()::writeAll);
                  target.machine().transition(MigrationState.RUNNING);
                }
              }
              return null;
            });
      }
      for (int i = 0; i < devices; i++) {
        String address = address(0x3b, i);
        BenchDevice source = deviceDirectory == null ? null : sources.get(i);
        work.add(
            () -> {
              BlobHeader header =
                  BenchDevice.header(
                      SimulatedDeviceSpec.of(address, bytes).identity(), BlobCompression.NONE);
              try (OutgoingStream out =
                      StreamSender.connect(
                          credentials,
                          LOOPBACK.getHostAddress(),
                          listener.port(),
                          LoopbackCredentials.NODE,
                          token,
                          address,
                          PATIENCE);
                  BlobStreamWriter writer = BlobStreamWriter.start(out, header)) {
                if (source == null) {
                  ByteBuffer mine = state.duplicate();
                  for (long sent = 0; sent < bytes; ) {
                    int n = (int) Math.min(mine.capacity(), bytes - sent);
                    writer.write(mine.clear().limit(n));
                    sent += n;
                  }
                } else {
                  source.stopCopy();
                  source.machine().readToEnd(writer::write, total -> {});
                }
                writer.commit();
              }
              return null;
            });
      }
      long start = System.nanoTime();
      inParallel(work);
      return (System.nanoTime() - start) / 1e9;
    }
  }

  private static String address(int bus, int index) {
    return String.format("0000:%02x:%02x.0", bus, index);
  }

  /** Runs every task on its own thread and rethrows the first failure. */
  static void inParallel(List<Callable<Void>> tasks) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(tasks.size());
    try {
      List<Future<Void>> running = new ArrayList<>();
      for (Callable<Void> task : tasks) {
        running.add(threads.submit(task));
      }
      for (Future<Void> future : running) {
        try {
          future.get();
        } catch (java.util.concurrent.ExecutionException e) {
          threads.shutdownNow();
          if (e.getCause() instanceof Exception cause) {
            throw cause;
          }
          throw e;
        }
      }
    } finally {
      threads.shutdownNow();
    }
  }
}
