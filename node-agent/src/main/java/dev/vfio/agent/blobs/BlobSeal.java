package dev.vfio.agent.blobs;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.HexFormat;

/**
 * The header's {@code seal}: how the blob is authenticated and what a reader needs, besides the
 * key, to check it. A header without one (format versions 1 and 2) is unsealed.
 *
 * @param authentication the tags the chunks carry
 * @param keyId which blob key sealed it ({@link BlobKey#id}), so a reader with another key says so
 *     instead of reporting every chunk forged; null when unsealed
 * @param salt 32 random bytes, lowercase hex, that make the blob's own key unique to it; null when
 *     unsealed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BlobSeal(BlobAuthentication authentication, String keyId, String salt) {
  /** Random bytes per blob: a sealing key is never used for two blobs. */
  static final int SALT_BYTES = 32;

  public static final BlobSeal NONE = new BlobSeal(BlobAuthentication.NONE, null, null);

  public BlobSeal {
    if (authentication == null) {
      authentication = BlobAuthentication.NONE;
    }
    if (authentication != BlobAuthentication.NONE) {
      if (keyId == null || keyId.isBlank()) {
        throw new IllegalArgumentException("a sealed blob's header names its key id");
      }
      if (salt == null || HexFormat.of().parseHex(salt).length != SALT_BYTES) {
        throw new IllegalArgumentException(
            "a sealed blob's salt is " + SALT_BYTES + " bytes of lowercase hex");
      }
    }
  }

  /** Whether the chunks carry tags. */
  boolean sealed() {
    return authentication != BlobAuthentication.NONE;
  }

  byte[] saltBytes() {
    return HexFormat.of().parseHex(salt);
  }
}
