package dev.vfio.bench;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.vfio.agent.blobs.BlobCompression;
import dev.vfio.agent.blobs.BlobStreamReader;
import dev.vfio.agent.blobs.BlobStreamWriter;
import dev.vfio.agent.blobs.CipherWarmUp;
import dev.vfio.agent.sim.SimulatedDeviceSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The per-byte work of the blob format, one 1 MiB chunk per operation, with a memory copy of the
 * same chunk as the baseline and AES-256-GCM in TLS-sized records as the cost TLS adds: chunk
 * framing of the live stream out (CRC-32C, copy) and in (every check), each piece alone (SHA-256
 * among them, which a stored blob adds per chunk), zstd, and the per-chunk seals a blob can carry
 * (AES-256-GCM, which agents seal with, AES-GMAC and HMAC-SHA-256: decisions 0008 and 0010).
 *
 * <p>The GCM kernels run as the agent runs GCM: on heap arrays, with 9 bytes of associated data,
 * after {@link CipherWarmUp} (which the agent runs at start). Without the warm-up, HotSpot
 * interprets GCM for thousands of 1 MiB calls, far longer than JMH's warm-up lasts: what decision
 * 0008 measured. {@link #aesGcmChunkDirect} is that earlier kernel's call, on direct buffers.
 */
@State(Scope.Thread)
public class CodecKernels {
  static final int CHUNK = 1 << 20;

  /** Chunks in the blob that {@link #frameIn} reads per invocation. */
  static final int BLOB_CHUNKS = 16;

  private static final int TLS_RECORD = 16 * 1024;

  /**
   * The associated data of a sealed chunk: its record kind and index. Below one 16-byte block, as
   * the agent keeps it: a block or more of it leaves this runtime's GCM slow (decision 0010).
   */
  private static final int CONTEXT_BYTES = 1 + 8;

  static {
    // Once per JVM, as the agent does once at start: every kernel then runs as a warm agent would.
    CipherWarmUp.run();
  }

  private final ByteBuffer source = ByteBuffer.allocateDirect(CHUNK);
  private final ByteBuffer target = ByteBuffer.allocateDirect(CHUNK);
  private final ByteBuffer mostlyZero = ByteBuffer.allocateDirect(CHUNK);
  private final ByteBuffer compressed = ByteBuffer.allocateDirect((int) Zstd.compressBound(CHUNK));
  private final byte[] array = new byte[CHUNK];
  private final byte[] staging = new byte[64 * 1024];
  private final byte[] sealed = new byte[TLS_RECORD + 16];
  private final ByteBuffer sealedChunk = ByteBuffer.allocateDirect(CHUNK + 16);
  private final byte[] encrypted = new byte[CHUNK + 16];
  private final byte[] ciphertext = new byte[CHUNK + 16];
  private final byte[] decrypted = new byte[CHUNK + 16];

  /** The decrypted chunk's nonce: one no encrypting kernel uses, which count from zero. */
  private final byte[] fixedNonce = ByteBuffer.allocate(12).put(0, (byte) 1).array();

  private final MessageDigest sha256 = sha256();
  private final ZstdCompressCtx zstd = new ZstdCompressCtx();
  private BlobStreamWriter plainWriter;
  private BlobStreamWriter zstdWriter;
  private byte[] blob;
  private Cipher gcm;
  private Mac hmac;
  private SecretKeySpec key;
  private long nonce;

  @Setup(Level.Trial)
  public void setUp() throws IOException, GeneralSecurityException {
    new SplittableRandom(6).nextBytes(array);
    source.put(array).flip();
    // Device state is often sparse: a quarter random, the rest zero.
    mostlyZero.put(array, 0, CHUNK / 4).put(new byte[CHUNK - CHUNK / 4]).flip();
    plainWriter =
        BlobStreamWriter.start(
            OutputStream.nullOutputStream(),
            BenchDevice.header(
                SimulatedDeviceSpec.of("0000:bb:00.0", 0).identity(), BlobCompression.NONE));
    zstdWriter =
        BlobStreamWriter.start(
            OutputStream.nullOutputStream(),
            BenchDevice.header(
                SimulatedDeviceSpec.of("0000:bb:00.0", 0).identity(), BlobCompression.ZSTD));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (BlobStreamWriter writer =
        BlobStreamWriter.start(
            out,
            BenchDevice.header(
                SimulatedDeviceSpec.of("0000:bb:00.0", 0).identity(), BlobCompression.NONE))) {
      for (int i = 0; i < BLOB_CHUNKS; i++) {
        writer.write(source.duplicate());
      }
      writer.commit();
    }
    blob = out.toByteArray();
    key = new SecretKeySpec(new byte[32], "AES");
    gcm = Cipher.getInstance("AES/GCM/NoPadding");
    hmac = Mac.getInstance("HmacSHA256");
    hmac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
    gcm.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, fixedNonce));
    gcm.updateAAD(array, 0, CONTEXT_BYTES);
    gcm.doFinal(array, 0, CHUNK, encrypted, 0);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    plainWriter.close();
    zstdWriter.close();
    zstd.close();
  }

  /** The baseline: one copy of the chunk, native memory to native memory. */
  @Benchmark
  public ByteBuffer copy() {
    return target.clear().put(source.duplicate());
  }

  @Benchmark
  public long crc32c() {
    CRC32C crc = new CRC32C();
    crc.update(source.duplicate());
    return crc.getValue();
  }

  @Benchmark
  public byte[] sha256Heap() {
    sha256.update(array);
    return sha256.digest();
  }

  @Benchmark
  public byte[] sha256Direct() {
    sha256.update(source.duplicate());
    return sha256.digest();
  }

  /** SHA-256 of native memory staged through a 64 KiB array, instead of the JDK's 4 KiB. */
  @Benchmark
  public byte[] sha256DirectStaged() {
    ByteBuffer in = source.duplicate();
    while (in.hasRemaining()) {
      int n = Math.min(staging.length, in.remaining());
      in.get(staging, 0, n);
      sha256.update(staging, 0, n);
    }
    return sha256.digest();
  }

  /**
   * What a live-migration sender does per chunk: frame, CRC, copy out; no compression, and no
   * digest since blob format 2 (the stream is TLS's to protect; SHA-256 alone is below).
   */
  @Benchmark
  public void frameOut() throws IOException {
    plainWriter.write(source.duplicate());
  }

  /** What a live-migration receiver does per chunk: read the frame, check CRC and trailer. */
  @Benchmark
  @OperationsPerInvocation(BLOB_CHUNKS)
  public Object frameIn() throws IOException {
    return BlobStreamReader.open(new ByteArrayInputStream(blob))
        .copyTo(chunk -> chunk.position(chunk.limit()));
  }

  @Benchmark
  public void frameOutZstdRandom() throws IOException {
    zstdWriter.write(source.duplicate());
  }

  @Benchmark
  public void frameOutZstdSparse() throws IOException {
    zstdWriter.write(mostlyZero.duplicate());
  }

  /** zstd alone, level 3 as the agent uses it, on a chunk that is three quarters zero. */
  @Benchmark
  public int zstdSparse() {
    return zstd.compressDirectByteBuffer(
        compressed.clear(), 0, compressed.capacity(), mostlyZero, 0, CHUNK);
  }

  /** What TLS 1.3 adds per byte on one side: AES-256-GCM in 16 KiB records. */
  @Benchmark
  public int aesGcmRecords() throws GeneralSecurityException {
    int n = 0;
    for (int offset = 0; offset < CHUNK; offset += TLS_RECORD) {
      byte[] iv = ByteBuffer.allocate(12).putLong(4, nonce++).array();
      gcm.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
      n += gcm.doFinal(array, offset, TLS_RECORD, sealed, 0);
    }
    return n;
  }

  /**
   * A sealed blob's chunk as agents seal it: AES-256-GCM over the chunk's stored bytes, one 16-byte
   * tag per 1 MiB chunk, on heap arrays.
   */
  @Benchmark
  public int aesGcmEncryptChunk() throws GeneralSecurityException {
    gcm.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce()));
    gcm.updateAAD(array, 0, CONTEXT_BYTES);
    return gcm.doFinal(array, 0, CHUNK, ciphertext, 0);
  }

  /** The same chunk opened as a Load opens it: tag checked, then decrypted. */
  @Benchmark
  public int aesGcmDecryptChunk() throws GeneralSecurityException {
    gcm.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, fixedNonce));
    gcm.updateAAD(array, 0, CONTEXT_BYTES);
    return gcm.doFinal(encrypted, 0, CHUNK + 16, decrypted, 0);
  }

  /** GMAC: AES-256-GCM over the chunk as associated data, nothing encrypted. */
  @Benchmark
  public int gmacChunk() throws GeneralSecurityException {
    gcm.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce()));
    gcm.updateAAD(array, 0, CHUNK);
    return gcm.doFinal(sealed, 0, 0, sealed, 0);
  }

  /**
   * The call decision 0008 measured, without the warm-up then: the chunk in native memory, handed
   * over as direct buffers.
   */
  @Benchmark
  public int aesGcmChunkDirect() throws GeneralSecurityException {
    gcm.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce()));
    return gcm.doFinal(source.duplicate(), sealedChunk.clear());
  }

  /** The tag of HMAC seals: HMAC-SHA-256 of the chunk, which costs a SHA-256 of it. */
  @Benchmark
  public byte[] hmacSha256Chunk() {
    hmac.update(source.duplicate());
    return hmac.doFinal();
  }

  private byte[] nonce() {
    return ByteBuffer.allocate(12).putLong(4, nonce++).array();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
