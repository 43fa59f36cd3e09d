package dev.vfio.agent.blobs;

import java.util.Set;

/** A storage claim was named that is not mounted into this agent. */
public class UnknownStorageClaimException extends IllegalArgumentException {
  public UnknownStorageClaimException(String claim, Set<String> known) {
    super(
        "storage claim "
            + claim
            + " is not mounted into this agent; known claims: "
            + (known.isEmpty() ? "none" : String.join(", ", known)));
  }
}
