package dev.vfio.agent.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobHeader;
import dev.vfio.agent.blobs.BlobIntegrityException;
import dev.vfio.agent.blobs.BlobStreamReader;
import dev.vfio.agent.blobs.BlobStreamWriter;
import dev.vfio.agent.blobs.BlobSummary;
import dev.vfio.agent.vfio.ChunkSink;
import dev.vfio.agent.vfio.DeviceIdentity;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StreamTransportTest {
  private static final int MIB = 1024 * 1024;
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final String HOST = LOOPBACK.getHostAddress();
  private static final String TOKEN = "d3b07384d113edec49eaa6238ad5ff00";
  private static final Duration ACCEPT = Duration.ofSeconds(20);
  private static final Duration IDLE = Duration.ofSeconds(10);
  private static final long LARGE_BUDGET = 1L << 40;

  /** The node of {@link #AGENT}: both ends of these streams are that one agent. */
  private static final String NODE = CertificateAuthority.NODE;

  private static final CertificateAuthority CA =
      CertificateAuthority.create("vfio-operator transport CA");

  /** Every agent holds the same certificate, as in the cluster. */
  private static final TransportCredentials AGENT = CA.issueAgent().credentials();

  private final ExecutorService threads = Executors.newCachedThreadPool();
  private StreamListener listener;

  @AfterEach
  void stop() throws Exception {
    if (listener != null) {
      listener.close();
    }
    threads.shutdownNow();
    assertTrue(threads.awaitTermination(20, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(BlobCompression.class)
  void thirtyTwoMebibytesOfStateCrossTlsAndVerify(BlobCompression compression) throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    StateSource state = new StateSource(32L * MIB, 7);

    CompletableFuture<BlobSummary> sent =
        send(AGENT, listener.port(), TOKEN, "0000:65:00.0", compression, state);

    HashingSink device = new HashingSink();
    BlobSummary received;
    try (IncomingStream stream = listener.accept(ACCEPT)) {
      assertEquals("0000:65:00.0", stream.device());
      BlobStreamReader reader = BlobStreamReader.open(stream.data(), "test stream");
      assertEquals(compression, reader.header().compression());
      received = reader.copyTo(device);
    }
    BlobSummary summary = sent.get(30, TimeUnit.SECONDS);
    assertEquals(summary, received);
    assertEquals(32L * MIB, received.stateBytes());
    assertNull(received.sha256Hex(), "a stream carries no digest");
    assertEquals(state.sha256Hex(), device.sha256Hex());
  }

  @Test
  void devicesOfOnePodStreamInParallelThroughOneListener() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    List<String> devices = List.of("0000:65:00.0", "0000:65:00.1", "0000:b3:00.0");

    List<CompletableFuture<String>> received =
        devices.stream()
            .map(device -> CompletableFuture.supplyAsync(() -> receiveOne(listener), threads))
            .toList();
    List<CompletableFuture<BlobSummary>> sent =
        devices.stream()
            .map(
                device ->
                    send(
                        AGENT,
                        listener.port(),
                        TOKEN,
                        device,
                        BlobCompression.ZSTD,
                        new StateSource(6L * MIB, device.hashCode())))
            .toList();

    Set<String> verified =
        received.stream().map(CompletableFuture::join).collect(Collectors.toSet());
    assertEquals(Set.copyOf(devices), verified);
    sent.forEach(CompletableFuture::join);
  }

  @Test
  void wrongTokenIsRefusedAndTheListenerWaitsForTheRightOne() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CompletableFuture<String> received =
        CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);

    IOException refused =
        assertThrows(
            IOException.class,
            () ->
                StreamSender.connect(
                    AGENT, HOST, listener.port(), NODE, "not-the-token", "0000:65:00.0", IDLE));
    assertTrue(
        refused.getMessage().contains("refused the token or device 0000:65:00.0"),
        refused.getMessage());
    assertFalse(received.isDone());

    send(
            AGENT,
            listener.port(),
            TOKEN,
            "0000:65:00.0",
            BlobCompression.NONE,
            new StateSource(MIB, 1))
        .get(30, TimeUnit.SECONDS);
    assertEquals("0000:65:00.0", received.get(30, TimeUnit.SECONDS));
  }

  @Test
  void senderWithACertificateOfAnotherCaIsRefusedAndTheListenerWaitsForTheRightOne()
      throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CompletableFuture<String> received =
        CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);
    // It trusts our CA, so only the listener's check of its certificate can stop it.
    TransportCredentials foreign =
        CertificateAuthority.create("someone else's CA").issueAgent().credentials();
    SSLContext impostor = context(foreign, CA.certificate());

    assertThrows(
        IOException.class,
        () ->
            StreamSender.connect(
                impostor, HOST, listener.port(), NODE, TOKEN, "0000:65:00.0", IDLE));
    assertFalse(received.isDone());

    send(
            AGENT,
            listener.port(),
            TOKEN,
            "0000:65:00.0",
            BlobCompression.NONE,
            new StateSource(MIB, 1))
        .get(30, TimeUnit.SECONDS);
    assertEquals("0000:65:00.0", received.get(30, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(CaRotation.class)
  void aStreamCrossesARotationOfTheCaWhileBothEndsTrustTheBundle(CaRotation side) throws Exception {
    // The operator names every CA it makes alike: only the key tells the rotated one apart.
    CertificateAuthority rotated = CertificateAuthority.create("vfio-operator transport CA");
    List<X509Certificate> bundle = List.of(rotated.certificate(), CA.certificate());
    TransportCredentials renewed = rotated.issueAgent().credentials().trusting(bundle);
    TransportCredentials notYetRenewed = AGENT.trusting(bundle);
    boolean receiverRenewed = side == CaRotation.RECEIVER_RENEWED;
    listener =
        StreamListener.open(
            receiverRenewed ? renewed : notYetRenewed,
            LOOPBACK,
            0,
            NODE,
            TOKEN,
            LARGE_BUDGET,
            IDLE);
    CompletableFuture<String> received =
        CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);

    send(
            receiverRenewed ? notYetRenewed : renewed,
            listener.port(),
            TOKEN,
            "0000:65:00.0",
            BlobCompression.NONE,
            new StateSource(MIB, 1))
        .get(30, TimeUnit.SECONDS);

    assertEquals("0000:65:00.0", received.get(30, TimeUnit.SECONDS));
  }

  @Test
  void aReceiverTrustingOnlyThePreviousCaRefusesASenderOfTheRotatedOne() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CertificateAuthority rotated = CertificateAuthority.create("vfio-operator transport CA");
    TransportCredentials renewed =
        rotated
            .issueAgent()
            .credentials()
            .trusting(List.of(rotated.certificate(), CA.certificate()));

    assertThrows(
        IOException.class,
        () ->
            StreamSender.connect(
                renewed, HOST, listener.port(), NODE, TOKEN, "0000:65:00.0", IDLE));
  }

  /** Which end of a stream already holds a certificate of the rotated CA. */
  enum CaRotation {
    SENDER_RENEWED,
    RECEIVER_RENEWED
  }

  @Test
  void senderWithoutACertificateIsRefused() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CompletableFuture<String> received =
        CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);

    assertThrows(
        IOException.class,
        () ->
            StreamSender.connect(
                context(null, CA.certificate()),
                HOST,
                listener.port(),
                NODE,
                TOKEN,
                "0000:65:00.0",
                IDLE));

    assertFalse(received.isDone());
  }

  @Test
  void peerThatDoesNotSpeakTlsIsRefusedAndTheListenerWaitsForTheRightOne() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CompletableFuture<String> received =
        CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);

    try (Socket plain = new Socket(LOOPBACK, listener.port())) {
      OutputStream out = plain.getOutputStream();
      out.write("GET / HTTP/1.1\r\nHost: receiver\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // At most a TLS alert, then the listener closes the connection.
      plain.getInputStream().readAllBytes();
    } catch (IOException e) {
      // A reset is a refusal too.
    }
    assertFalse(received.isDone());

    send(
            AGENT,
            listener.port(),
            TOKEN,
            "0000:65:00.0",
            BlobCompression.NONE,
            new StateSource(MIB, 1))
        .get(30, TimeUnit.SECONDS);
    assertEquals("0000:65:00.0", received.get(30, TimeUnit.SECONDS));
  }

  @Test
  void idleConnectionsDoNotHoldUpARealSender() throws Exception {
    // Reads may idle for an hour: an idle connection that could hold up the accept for its idle
    // timeout would make the real sender below miss its 20-second accept.
    listener = listen(LARGE_BUDGET, Duration.ofHours(1));
    List<Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        idle.add(new Socket(LOOPBACK, listener.port()));
      }
      CompletableFuture<String> received =
          CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);

      send(
              AGENT,
              listener.port(),
              TOKEN,
              "0000:65:00.0",
              BlobCompression.NONE,
              new StateSource(MIB, 1))
          .get(30, TimeUnit.SECONDS);
      assertEquals("0000:65:00.0", received.get(30, TimeUnit.SECONDS));
    } finally {
      for (Socket socket : idle) {
        socket.close();
      }
    }
  }

  @Test
  void aPeerThatDoesNotFinishItsHandshakeIsDisconnected() throws Exception {
    listener = listen(LARGE_BUDGET, Duration.ofHours(1));

    try (Socket silent = new Socket(LOOPBACK, listener.port())) {
      silent.setSoTimeout((int) Duration.ofMinutes(2).toMillis());
      // The listener closes it after the handshake timeout, perhaps after a TLS alert; a read
      // that timed out instead would throw SocketTimeoutException and fail the test.
      try {
        byte[] alert = silent.getInputStream().readAllBytes();
        assertTrue(alert.length < 64, () -> alert.length + " bytes instead of at most an alert");
      } catch (java.net.SocketException reset) {
        // A reset is a disconnection too.
      }
    }
  }

  @Test
  void aSenderRefusesAReceiverWithAnotherNodesCertificateBeforeItSendsTheToken() throws Exception {
    // Another node's agent, of our CA, listening where the Receive's endpoint pointed.
    listener =
        StreamListener.open(
            CA.issueAgent("node-b").credentials(), LOOPBACK, 0, NODE, TOKEN, LARGE_BUDGET, IDLE);
    CompletableFuture<String> received =
        CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);

    PeerIdentityException refused =
        assertThrows(
            PeerIdentityException.class,
            () ->
                StreamSender.connect(
                    AGENT, HOST, listener.port(), NODE, TOKEN, "0000:65:00.0", IDLE));

    assertEquals(
        "the receiver at "
            + HOST
            + ":"
            + listener.port()
            + " presented the transport certificate of node node-b, not of node node-a that the"
            + " task names",
        refused.getMessage());
    assertFalse(received.isDone(), "nothing reached the other node's listener");
  }

  @Test
  void aReceiverRefusesASenderWithAnotherNodesCertificateAndReportsIt() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    TransportCredentials otherNode = CA.issueAgent("node-b").credentials();
    CompletableFuture<BlobSummary> sent =
        send(otherNode, listener.port(), TOKEN, "0000:65:00.0", BlobCompression.NONE, zeros(1));

    PeerIdentityException refused =
        assertThrows(PeerIdentityException.class, () -> listener.accept(ACCEPT));

    assertTrue(
        refused
            .getMessage()
            .contains(
                "presented the transport certificate of node node-b, not" + " of node node-a"),
        refused.getMessage());
    ExecutionException failed =
        assertThrows(ExecutionException.class, () -> sent.get(30, TimeUnit.SECONDS));
    assertInstanceOf(IOException.class, failed.getCause(), "the sender was cut off");
  }

  @Test
  void senderRefusesAReceiverWithACertificateOfAnotherCa() throws Exception {
    TransportCredentials foreign =
        CertificateAuthority.create("someone else's CA").issueAgent().credentials();
    listener = StreamListener.open(foreign, LOOPBACK, 0, NODE, TOKEN, LARGE_BUDGET, IDLE);
    CompletableFuture<String> received =
        CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);

    IOException refused =
        assertThrows(
            IOException.class,
            () ->
                StreamSender.connect(
                    AGENT, HOST, listener.port(), NODE, TOKEN, "0000:65:00.0", IDLE));

    assertTrue(
        refused.getMessage().contains("certificates from the transport CA"), refused.getMessage());
    assertFalse(received.isDone());
  }

  @Test
  void sameDeviceIsAcceptedOnlyOnce() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CompletableFuture<BlobSummary> first =
        send(
            AGENT,
            listener.port(),
            TOKEN,
            "0000:65:00.0",
            BlobCompression.NONE,
            new StateSource(MIB, 1));
    assertEquals("0000:65:00.0", receiveOne(listener));
    first.get(30, TimeUnit.SECONDS);
    CompletableFuture<String> again =
        CompletableFuture.supplyAsync(() -> receiveOne(listener), threads);

    IOException refused =
        assertThrows(
            IOException.class,
            () ->
                StreamSender.connect(
                    AGENT, HOST, listener.port(), NODE, TOKEN, "0000:65:00.0", IDLE));
    assertTrue(
        refused.getMessage().contains("refused the token or device 0000:65:00.0"),
        refused.getMessage());
    assertFalse(again.isDone());
  }

  @Test
  void byteBudgetSharedByTheStreamsFailsTheReadThatExceedsIt() throws Exception {
    listener = listen(3 * MIB, IDLE);
    send(
        AGENT,
        listener.port(),
        TOKEN,
        "0000:65:00.0",
        BlobCompression.NONE,
        new StateSource(2 * MIB, 1));
    try (IncomingStream first = listener.accept(ACCEPT)) {
      BlobStreamReader.open(first.data()).copyTo(chunk -> {});
    }
    send(
        AGENT,
        listener.port(),
        TOKEN,
        "0000:65:00.1",
        BlobCompression.NONE,
        new StateSource(2 * MIB, 2));

    try (IncomingStream second = listener.accept(ACCEPT)) {
      IOException exceeded =
          assertThrows(
              IOException.class, () -> BlobStreamReader.open(second.data()).copyTo(chunk -> {}));
      assertEquals("byte budget of " + 3 * MIB + " bytes exceeded", exceeded.getMessage());
    }
  }

  @Test
  void theBudgetCountsTheDecompressedStateNotTheWireBytes() throws Exception {
    listener = listen(MIB, IDLE);
    // Zeros: 8 MiB of state in a few KiB on the wire, far below the budget there.
    CompletableFuture<BlobSummary> sent =
        send(AGENT, listener.port(), TOKEN, "0000:65:00.0", BlobCompression.ZSTD, zeros(8));

    try (IncomingStream stream = listener.accept(ACCEPT)) {
      IOException exceeded =
          assertThrows(
              IOException.class,
              () -> BlobStreamReader.open(stream.data()).copyTo(stream.charged(chunk -> {})));
      assertEquals(
          "byte budget of " + MIB + " bytes exceeded by the decompressed state",
          exceeded.getMessage());
    }
    // The sender may have finished before the receiver refused: only wait for it to end.
    sent.handle((summary, failure) -> summary).get(60, TimeUnit.SECONDS);
  }

  @Test
  void senderThatStallsFailsTheReadAfterTheIdleTimeout() throws Exception {
    Duration idle = Duration.ofMillis(500);
    listener = listen(LARGE_BUDGET, idle);
    CountDownLatch receiverFailed = new CountDownLatch(1);
    CompletableFuture<Void> stalled =
        CompletableFuture.runAsync(
            () -> {
              try (OutgoingStream out =
                      StreamSender.connect(
                          AGENT, HOST, listener.port(), NODE, TOKEN, "0000:65:00.0", IDLE);
                  BlobStreamWriter writer =
                      BlobStreamWriter.start(out, header("0000:65:00.0", BlobCompression.NONE))) {
                // More than the writer keeps in the background, so that chunks reach the receiver.
                writer.write(ByteBuffer.allocate(8 * MIB));
                out.flush();
                // Holds the connection open, sending nothing, until the receiver gave up.
                receiverFailed.await(30, TimeUnit.SECONDS);
              } catch (IOException | InterruptedException e) {
                throw new CompletionException(e);
              }
            },
            threads);

    try (IncomingStream stream = listener.accept(ACCEPT)) {
      BlobStreamReader reader = BlobStreamReader.open(stream.data());
      SocketTimeoutException timedOut =
          assertThrows(SocketTimeoutException.class, () -> reader.copyTo(chunk -> {}));
      assertTrue(
          timedOut.getMessage().contains("within the idle timeout of PT0.5S"),
          timedOut.getMessage());
    } finally {
      receiverFailed.countDown();
    }
    stalled.get(30, TimeUnit.SECONDS);
  }

  @Test
  void anAcceptedStreamWaitsTheIdleTimeoutNotTheHandshakeTimeout() throws Exception {
    listener = listen(LARGE_BUDGET, Duration.ofHours(1));
    CompletableFuture<BlobSummary> sent =
        CompletableFuture.supplyAsync(
            () -> {
              try (OutgoingStream out =
                      StreamSender.connect(
                          AGENT,
                          HOST,
                          listener.port(),
                          NODE,
                          TOKEN,
                          "0000:65:00.0",
                          Duration.ofHours(1));
                  BlobStreamWriter writer =
                      BlobStreamWriter.start(out, header("0000:65:00.0", BlobCompression.NONE))) {
                writer.write(ByteBuffer.allocate(MIB));
                out.flush();
                // A pause the handshake would not have been granted, well within the idle timeout,
                // and
                // without keep-alives: the sender's idle timeout is an hour too.
                Thread.sleep(StreamListener.HANDSHAKE_TIMEOUT.plusSeconds(1).toMillis());
                writer.write(ByteBuffer.allocate(MIB));
                return writer.commit();
              } catch (IOException | InterruptedException e) {
                throw new CompletionException(e);
              }
            },
            threads);

    assertEquals("0000:65:00.0", receiveOne(listener));
    sent.get(30, TimeUnit.SECONDS);
  }

  @Test
  void aReceiverThatStopsReadingFailsTheSendersWriteAfterTheIdleTimeout() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CompletableFuture<IOException> writing =
        CompletableFuture.supplyAsync(
            () -> {
              try (OutgoingStream out =
                  StreamSender.connect(
                      AGENT,
                      HOST,
                      listener.port(),
                      NODE,
                      TOKEN,
                      "0000:65:00.0",
                      Duration.ofSeconds(1))) {
                byte[] chunk = new byte[MIB];
                // Far more than the sockets' buffers hold: a write must block.
                for (int i = 0; i < 1024; i++) {
                  out.write(chunk, 0, chunk.length);
                }
                return null;
              } catch (IOException e) {
                return e;
              }
            },
            threads);

    try (IncomingStream accepted = listener.accept(ACCEPT)) {
      // Accepted and never read.
      IOException failure = writing.get(60, TimeUnit.SECONDS);

      assertInstanceOf(SocketTimeoutException.class, failure);
      assertTrue(
          failure.getMessage().contains("took no data of device 0000:65:00.0"),
          failure.getMessage());
    }
  }

  @Test
  void connectionClosedMidStreamWithoutTlsCloseIsRefusedAsTruncated() throws Exception {
    // The JDK reports a TCP end without close_notify as a plain end of stream; the blob framing
    // is what turns it into a refusal rather than a short state.
    IOException refused = receiveThroughACut(false);

    assertInstanceOf(BlobIntegrityException.class, refused);
    assertTrue(refused.getMessage().contains("truncated at byte"), refused.getMessage());
  }

  @Test
  void connectionResetMidStreamFailsTheReceiver() throws Exception {
    IOException refused = receiveThroughACut(true);

    assertTrue(refused.getMessage().contains("reset"), refused.getMessage());
  }

  /** Streams 16 MiB through a relay that cuts after 5 MiB; returns what the receiver got. */
  private IOException receiveThroughACut(boolean reset) throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    try (CuttingRelay relay = new CuttingRelay(listener.port(), 5L * MIB + 1234, reset)) {
      CompletableFuture<BlobSummary> sent =
          send(
              AGENT,
              relay.port(),
              TOKEN,
              "0000:65:00.0",
              BlobCompression.NONE,
              new StateSource(16L * MIB, 3));

      HashingSink device = new HashingSink();
      IOException refused;
      try (IncomingStream stream = listener.accept(ACCEPT)) {
        BlobStreamReader reader = BlobStreamReader.open(stream.data());
        refused = assertThrows(IOException.class, () -> reader.copyTo(device));
      }
      assertTrue(device.bytes < 5L * MIB, "delivered " + device.bytes);
      ExecutionException senderFailed =
          assertThrows(ExecutionException.class, () -> sent.get(30, TimeUnit.SECONDS));
      assertInstanceOf(IOException.class, senderFailed.getCause());
      return refused;
    }
  }

  @Test
  void senderThatClosesWithoutFinishingLeavesATruncatedBlob() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CompletableFuture<Void> abandoned =
        CompletableFuture.runAsync(
            () -> {
              try (OutgoingStream out =
                      StreamSender.connect(
                          AGENT, HOST, listener.port(), NODE, TOKEN, "0000:65:00.0", IDLE);
                  BlobStreamWriter writer =
                      BlobStreamWriter.start(out, header("0000:65:00.0", BlobCompression.NONE))) {
                writer.write(ByteBuffer.allocate(3 * MIB));
              } catch (IOException e) {
                throw new CompletionException(e);
              }
            },
            threads);

    try (IncomingStream stream = listener.accept(ACCEPT)) {
      BlobIntegrityException truncated =
          assertThrows(
              BlobIntegrityException.class,
              () -> BlobStreamReader.open(stream.data()).copyTo(chunk -> {}));
      assertTrue(truncated.getMessage().contains("truncated at byte"), truncated.getMessage());
    }
    abandoned.get(30, TimeUnit.SECONDS);
  }

  @Test
  void acceptWithoutASenderTimesOut() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);

    SocketTimeoutException timedOut =
        assertThrows(SocketTimeoutException.class, () -> listener.accept(Duration.ofMillis(200)));

    assertTrue(timedOut.getMessage().contains("within PT0.2S"), timedOut.getMessage());
  }

  @Test
  void closingTheListenerFailsTheStreamsItAccepted() throws Exception {
    listener = listen(LARGE_BUDGET, IDLE);
    CountDownLatch done = new CountDownLatch(1);
    CompletableFuture.runAsync(
        () -> {
          try (OutgoingStream out =
                  StreamSender.connect(
                      AGENT, HOST, listener.port(), NODE, TOKEN, "0000:65:00.0", IDLE);
              BlobStreamWriter writer =
                  BlobStreamWriter.start(out, header("0000:65:00.0", BlobCompression.NONE))) {
            writer.write(ByteBuffer.allocate(2 * MIB));
            done.await(30, TimeUnit.SECONDS);
          } catch (IOException | InterruptedException e) {
            throw new CompletionException(e);
          }
        },
        threads);
    IncomingStream stream = listener.accept(ACCEPT);
    CompletableFuture<BlobSummary> receiving =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return BlobStreamReader.open(stream.data()).copyTo(chunk -> {});
              } catch (IOException e) {
                throw new CompletionException(e);
              }
            },
            threads);

    listener.close();

    await().atMost(Duration.ofSeconds(10)).until(receiving::isDone);
    assertTrue(receiving.isCompletedExceptionally());
    done.countDown();
  }

  private StreamListener listen(long budget, Duration idle) throws IOException {
    return StreamListener.open(AGENT, LOOPBACK, 0, NODE, TOKEN, budget, idle);
  }

  /** Accepts one stream and verifies its blob; returns the device. */
  private static String receiveOne(StreamListener listener) {
    try (IncomingStream stream = listener.accept(ACCEPT)) {
      BlobStreamReader.open(stream.data()).copyTo(chunk -> {});
      return stream.device();
    } catch (IOException e) {
      throw new CompletionException(e);
    }
  }

  private CompletableFuture<BlobSummary> send(
      TransportCredentials credentials,
      int port,
      String token,
      String device,
      BlobCompression compression,
      Chunks state) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (OutgoingStream out =
                  StreamSender.connect(credentials, HOST, port, NODE, token, device, IDLE);
              BlobStreamWriter writer = BlobStreamWriter.start(out, header(device, compression))) {
            while (state.hasMore()) {
              writer.write(state.next());
            }
            return writer.commit();
          } catch (IOException e) {
            throw new CompletionException(e);
          }
        },
        threads);
  }

  private static BlobHeader header(String device, BlobCompression compression) {
    return new BlobHeader(
        BlobHeader.FORMAT_VERSION,
        new DeviceIdentity(device, "mlx5_vfio_pci", "15b3", "101e", "42"),
        List.of("STOP_COPY", "PRE_COPY"),
        "6.1.0-28-amd64",
        "node-a",
        "default",
        "vm-0",
        "live",
        "2025-03-01T12:00:00Z",
        compression);
  }

  /** A TLS 1.3 context presenting {@code identity} (none when null) and trusting {@code ca}. */
  private static SSLContext context(TransportCredentials identity, X509Certificate ca)
      throws Exception {
    KeyManagerFactory keys = KeyManagerFactory.getInstance("PKIX");
    KeyStore identityStore = KeyStore.getInstance("PKCS12");
    identityStore.load(null, null);
    if (identity != null) {
      identityStore.setKeyEntry(
          "agent", identity.key(), new char[0], identity.chain().toArray(X509Certificate[]::new));
    }
    keys.init(identityStore, new char[0]);
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", ca);
    TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(keys.getKeyManagers(), trust.getTrustManagers(), new SecureRandom());
    return context;
  }

  /** Incompressible state made up from a seed, one MiB at a time, hashed as it is handed out. */
  /** State a test sender sends, chunk by chunk. */
  private interface Chunks {
    boolean hasMore();

    ByteBuffer next();
  }

  /** {@code mib} MiB of zeros: as compressible as state gets. */
  private static Chunks zeros(int mib) {
    return new Chunks() {
      private int left = mib;

      @Override
      public boolean hasMore() {
        return left > 0;
      }

      @Override
      public ByteBuffer next() {
        left--;
        return ByteBuffer.allocate(MIB);
      }
    };
  }

  private static final class StateSource implements Chunks {
    private final SplittableRandom random;
    private final byte[] piece = new byte[MIB - 4321];
    private final MessageDigest sha256;
    private long remaining;

    StateSource(long length, long seed) {
      this.random = new SplittableRandom(seed);
      this.remaining = length;
      try {
        this.sha256 = MessageDigest.getInstance("SHA-256");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public boolean hasMore() {
      return remaining > 0;
    }

    @Override
    public ByteBuffer next() {
      int n = (int) Math.min(piece.length, remaining);
      random.nextBytes(piece);
      sha256.update(piece, 0, n);
      remaining -= n;
      return ByteBuffer.wrap(piece, 0, n);
    }

    String sha256Hex() {
      return HexFormat.of().formatHex(sha256.digest());
    }
  }

  /** Stands in for a device: hashes what it is given. */
  private static final class HashingSink implements ChunkSink {
    private final MessageDigest sha256;
    private long bytes;

    HashingSink() {
      try {
        this.sha256 = MessageDigest.getInstance("SHA-256");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void write(ByteBuffer chunk) {
      bytes += chunk.remaining();
      sha256.update(chunk);
    }

    String sha256Hex() {
      return HexFormat.of().formatHex(sha256.digest());
    }
  }
}
