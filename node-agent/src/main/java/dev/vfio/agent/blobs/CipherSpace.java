package dev.vfio.agent.blobs;

import java.security.NoSuchAlgorithmException;
import javax.crypto.Cipher;
import javax.crypto.NoSuchPaddingException;

/**
 * The heap arrays and the cipher one thread seals or opens a chunk with, kept from chunk to chunk.
 * Heap arrays, whatever buffer the chunk is in, because this runtime's AES-GCM is fastest on them
 * (a fifth faster than on direct buffers: docs/decisions/0010-gcm-blobs.md). One per chunk in
 * flight; a sealed chunk's bytes stay in {@link #out} until it is written out.
 */
final class CipherSpace {
  private static final int ROOM = ChunkCodec.LARGEST_STORED_BYTES + ChunkSeal.TAG_BYTES;

  private byte[] in;
  private byte[] out;
  private Cipher gcm;

  /** Room for a chunk's stored bytes and its tag, as the cipher reads them. */
  byte[] in() {
    if (in == null) {
      in = new byte[ROOM];
    }
    return in;
  }

  /** Room for what the cipher writes: a chunk's stored bytes and its tag. */
  byte[] out() {
    if (out == null) {
      out = new byte[ROOM];
    }
    return out;
  }

  Cipher gcm() {
    if (gcm == null) {
      try {
        gcm = Cipher.getInstance("AES/GCM/NoPadding");
      } catch (NoSuchAlgorithmException | NoSuchPaddingException e) {
        throw new IllegalStateException("every Java runtime provides AES/GCM/NoPadding", e);
      }
    }
    return gcm;
  }
}
