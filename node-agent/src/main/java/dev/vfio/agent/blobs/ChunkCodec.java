package dev.vfio.agent.blobs;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;

/**
 * Turns one chunk of state into its stored bytes and back. Each codec owns one reusable buffer, and
 * what it returns is valid until its next call.
 */
abstract sealed class ChunkCodec implements AutoCloseable {
  /** The largest stored chunk any codec makes: zstd's worst case for a full chunk. */
  static final int LARGEST_STORED_BYTES = (int) Zstd.compressBound(BlobFormat.MAX_CHUNK_BYTES);

  static ChunkCodec of(BlobCompression compression) {
    return switch (compression) {
      case NONE -> new Plain();
      case ZSTD -> new Zstandard();
    };
  }

  /** The largest stored chunk a valid blob can hold with this codec. */
  abstract int maxStoredBytes();

  /** The stored form of the remaining bytes of {@code state}, which are at most one chunk. */
  abstract ByteBuffer encode(ByteBuffer state);

  /** The state held by the remaining bytes of {@code stored}. */
  abstract ByteBuffer decode(ByteBuffer stored) throws DataFormatException;

  @Override
  public abstract void close();

  private static final class Plain extends ChunkCodec {
    @Override
    int maxStoredBytes() {
      return BlobFormat.MAX_CHUNK_BYTES;
    }

    @Override
    ByteBuffer encode(ByteBuffer state) {
      return state;
    }

    @Override
    ByteBuffer decode(ByteBuffer stored) {
      return stored;
    }

    @Override
    public void close() {}
  }

  private static final class Zstandard extends ChunkCodec {
    /** Incompressible state grows a little; the bound is zstd's worst case for a full chunk. */
    private static final int MAX_STORED = LARGEST_STORED_BYTES;

    private final ZstdCompressCtx compressor = new ZstdCompressCtx();
    private final ZstdDecompressCtx decompressor = new ZstdDecompressCtx();
    private final ChunkBuffer out = new ChunkBuffer(MAX_STORED);

    @Override
    int maxStoredBytes() {
      return MAX_STORED;
    }

    @Override
    ByteBuffer encode(ByteBuffer state) {
      ByteBuffer dst = out.ofLength(MAX_STORED);
      int n =
          compressor.compressDirectByteBuffer(
              dst, 0, dst.limit(), state, state.position(), state.remaining());
      return dst.limit(n);
    }

    @Override
    ByteBuffer decode(ByteBuffer stored) throws DataFormatException {
      try {
        // The writer records each frame's size; a size beyond a chunk is refused, not allocated.
        long size =
            Zstd.getDirectByteBufferFrameContentSize(stored, stored.position(), stored.remaining());
        if (size < 0 || size > BlobFormat.MAX_CHUNK_BYTES) {
          throw new DataFormatException("zstd frame declares no size or more than a chunk");
        }
        ByteBuffer dst = out.ofLength((int) size);
        int n =
            decompressor.decompressDirectByteBuffer(
                dst, 0, dst.limit(), stored, stored.position(), stored.remaining());
        return dst.limit(n);
      } catch (ZstdException e) {
        throw new DataFormatException(e.getMessage());
      }
    }

    @Override
    public void close() {
      compressor.close();
      decompressor.close();
    }
  }
}
