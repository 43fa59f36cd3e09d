package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReasonTest {
  @Test
  void everyReasonIsDocumentedWhereUsersLookItUp() throws IOException {
    String troubleshooting = Files.readString(Path.of("..", "docs", "troubleshooting.md"));
    List<String> undocumented =
        Arrays.stream(Reason.values())
            .map(Reason::wire)
            .filter(wire -> !troubleshooting.contains("`" + wire + "`"))
            .toList();
    assertEquals(List.of(), undocumented, "reasons missing from docs/troubleshooting.md");
  }

  @Test
  void aReasonOnTheWireReadsBackAsItselfAndAnUnknownOneAsNone() {
    for (Reason reason : Reason.values()) {
      assertEquals(Optional.of(reason), Reason.fromWire(reason.wire()));
    }
    assertTrue(Reason.fromWire("SomethingANewerAgentSays").isEmpty());
    assertTrue(Reason.fromWire(null).isEmpty());
  }
}
