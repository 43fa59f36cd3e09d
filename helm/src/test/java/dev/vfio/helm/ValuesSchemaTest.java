package dev.vfio.helm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A wrong value fails the install with a message that names the value and what it should be:
 * values.schema.json for each value on its own, the templates for what spans several.
 */
class ValuesSchemaTest {
  @TempDir Path directory;

  @Test
  void backendMustBeKernelOrSimulated() {
    assertRefused(
        c -> c.set("agent.backend", "kvm"),
        "agent.backend must be one of the following: \"kernel\", \"simulated\"");
  }

  @Test
  void durationsMustBeWhatTheComponentsParse() {
    assertRefused(
        c -> c.set("operator.defaultTimeout", "ten minutes"),
        "operator.defaultTimeout: Does not match pattern");
    assertRefused(
        c -> c.set("agent.heartbeatInterval", "10sec"),
        "agent.heartbeatInterval: Does not match pattern");
  }

  @Test
  void aMistypedKeyIsRefusedRatherThanIgnored() {
    assertRefused(
        c -> c.set("agent.backnd", "simulated"), "Additional property backnd is not allowed");
    assertRefused(
        c -> c.set("storage.claim[0].name", "x"), "Additional property claim is not allowed");
  }

  @Test
  void claimNamesAreLowercaseDnsNames() {
    assertRefused(
        c -> c.set("storage.claims[0].name", "Fast_Claim"),
        "storage.claims.0.name: Does not match pattern");
  }

  @Test
  void aClaimTheChartCreatesNeedsASize() throws IOException {
    assertRefused(
        values(
            """
        storage:
          claims:
            - name: vfio-snapshots
              accessModes: [ReadWriteMany]
        """),
        "size is required");
  }

  @Test
  void claimsCannotBeReadOnly() {
    assertRefused(
        c -> c.set("storage.claims[0].accessModes[0]", "ReadOnlyMany"),
        "storage.claims.0.accessModes.0: storage.claims.0.accessModes.0 must be one of the following");
  }

  @Test
  void atLeastOneClaim() throws IOException {
    assertRefused(
        values(
            """
        storage:
          claims: []
        """),
        "storage.claims: Array must have at least 1 items");
  }

  @Test
  void theDefaultClaimMustBeOneOfTheClaims() {
    assertRefused(
        c -> c.set("storage.defaultClaim", "nvme"),
        "storage.defaultClaim \"nvme\" is not one of storage.claims (vfio-snapshots)");
  }

  @Test
  void claimNamesAreUnique() throws IOException {
    assertRefused(
        values(
            """
        storage:
          claims:
            - {name: vfio-snapshots, size: 1Gi, accessModes: [ReadWriteMany]}
            - {name: vfio-snapshots, existingClaim: other}
        """),
        "storage.claims: every claim needs its own name");
  }

  @Test
  void theSimulatedBackendNeedsDevicesWithWellFormedAddresses() throws IOException {
    assertRefused(
        values(
            """
        agent:
          backend: simulated
          simulated:
            devices: []
        """),
        "agent.simulated.devices: Array must have at least 1 items");
    assertRefused(
        values(
            """
        agent:
          backend: simulated
          simulated:
            devices:
              - address: "3b:00.0"
        """),
        "agent.simulated.devices.0.address: Does not match pattern");
  }

  @Test
  void capabilitiesAreNamedOneByOne() {
    assertRefused(
        c -> c.set("agent.extraCapabilities[0]", "ALL"),
        "agent.extraCapabilities.0: Must not validate the schema (not)");
  }

  private UnaryOperator<TemplateCommand> values(String yaml) throws IOException {
    Path file = Files.writeString(Files.createTempFile(directory, "values", ".yaml"), yaml);
    return c -> c.withValuesFile(file);
  }

  private static void assertRefused(UnaryOperator<TemplateCommand> options, String message) {
    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> RenderedChart.template(options));
    assertTrue(
        refused.getMessage().contains(message),
        () -> "expected Helm to say \"" + message + "\", it said: " + refused.getMessage());
  }
}
