package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What the API server accepts and refuses for a VfioSnapshot, from the checked-in CRD. */
class VfioSnapshotValidationTest {
  private static final CrdValidationRules RULES = CrdValidationRules.forKind("VfioSnapshot");

  // The messages are spelled out rather than taken from ApiPatterns: they are what users read.
  private static final String POD_NAME_REQUIRED = "podName is required";
  private static final String NOT_A_SUBDOMAIN =
      "must be a lowercase RFC 1123 subdomain: a-z, 0-9, '-' and '.', at most 253 characters";
  private static final String BAD_DEVICE =
      "devices are lowercase PCI addresses (0000:65:00.0) or mdev UUIDs";
  private static final String BAD_DURATION = "must be a duration such as 90s, 10m or 1h30m";
  private static final String TIMEOUT_TOO_LONG = "must be at most 24h";
  private static final String TTL_TOO_LONG = "must be at most 87600h (10 years)";
  private static final String IMMUTABLE =
      "spec is immutable: delete the resource and create a new one";

  private static final String VALID_SPEC =
      """
      podName: gpu-workload
      devices: ["0000:3b:00.0"]
      storageClaim: vfio-snapshots
      quiesce: Freeze
      timeout: 10m
      ttl: 24h
      """;

  static Map<String, Object> snapshot(String spec) {
    return CrdValidationRules.yaml(
        """
        apiVersion: vfio.dev/v1alpha1
        kind: VfioSnapshot
        metadata:
          name: gpu-workload-snapshot
          namespace: default
        spec:
        """
            + spec.indent(2));
  }

  @Test
  void snapshotWithAValidSpecPassesEveryRule() {
    assertEquals(List.of(), RULES.createMessages(snapshot(VALID_SPEC)));
  }

  @Test
  void snapshotWithoutPodNameFailsWithPodNameIsRequired() {
    assertEquals(
        List.of(POD_NAME_REQUIRED), RULES.createMessages(snapshot("devices: [\"0000:3b:00.0\"]")));
  }

  @Test
  void snapshotWithAnEmptyPodNameFailsAsRequiredAndAsNotASubdomain() {
    assertEquals(
        List.of(POD_NAME_REQUIRED, NOT_A_SUBDOMAIN),
        RULES.createMessages(snapshot("podName: \"\"")));
  }

  static Stream<String> badPodNames() {
    return Stream.of(
        "GPU-Workload",
        "gpu_workload",
        "-gpu-workload",
        "gpu-workload-",
        "gpu..workload",
        "a".repeat(254));
  }

  @ParameterizedTest
  @MethodSource("badPodNames")
  void snapshotOfAPodNameThatIsNotALowercaseSubdomainFails(String podName) {
    assertEquals(
        List.of(NOT_A_SUBDOMAIN), RULES.createMessages(snapshot("podName: \"" + podName + "\"")));
  }

  static Stream<String> goodPodNames() {
    return Stream.of("gpu-workload", "a", "gpu-workload.v2", "0abc", "a".repeat(253));
  }

  @ParameterizedTest
  @MethodSource("goodPodNames")
  void snapshotOfAPodNameThatIsALowercaseSubdomainPasses(String podName) {
    assertEquals(List.of(), RULES.createMessages(snapshot("podName: \"" + podName + "\"")));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "[\"0000:3b:00.0\", \"3b:00.0\"]",
        "[\"0000:3B:00.0\"]",
        "[\"0000:3b:00.8\"]",
        "[\"0000:3b:00.0 \"]",
        "[\"C2F5D1A8-3B4E-4F6A-9D2C-1E7B8A9F0C3D\"]",
        "[\"gpu0\"]",
        "[\"\"]"
      })
  void snapshotWithABadDeviceAddressFails(String devices) {
    assertEquals(
        List.of(BAD_DEVICE),
        RULES.createMessages(snapshot("podName: gpu-workload\ndevices: " + devices)));
  }

  @Test
  void snapshotOfAPciAddressAndAnMdevUuidPasses() {
    assertEquals(
        List.of(),
        RULES.createMessages(
            snapshot(
                """
        podName: gpu-workload
        devices: ["0000:3b:00.0", "c2f5d1a8-3b4e-4f6a-9d2c-1e7b8a9f0c3d"]
        """)));
  }

  @Test
  void snapshotWithAnEmptyDeviceListPassesBecauseItMeansEveryDevice() {
    assertEquals(List.of(), RULES.createMessages(snapshot("podName: gpu-workload\ndevices: []")));
  }

  @Test
  void snapshotListingADeviceTwiceFailsWithDuplicateValue() {
    assertEquals(
        List.of("Duplicate value: \"0000:3b:00.0\""),
        RULES.createMessages(
            snapshot(
                """
        podName: gpu-workload
        devices: ["0000:3b:00.0", "0000:5e:00.0", "0000:3b:00.0"]
        """)));
  }

  @Test
  void theSchemaRequiresTheSpec() {
    // Not a CEL rule: the API server answers a snapshot without spec with "spec: Required value"
    // (ApiServerValidationTest).
    assertEquals(List.of("spec"), RULES.openApiSchema().get("required"));
  }

  static Stream<Arguments> durationsPastTheirMaximum() {
    return Stream.of(
        Arguments.of("timeout", "24h1ms", TIMEOUT_TOO_LONG),
        Arguments.of("timeout", "25h", TIMEOUT_TOO_LONG),
        Arguments.of("timeout", "1441m", TIMEOUT_TOO_LONG),
        Arguments.of("timeout", "23h60m1s", TIMEOUT_TOO_LONG),
        Arguments.of("timeout", "10000000000000h", TIMEOUT_TOO_LONG),
        Arguments.of("timeout", "12345678901234567890s", TIMEOUT_TOO_LONG),
        Arguments.of("ttl", "87601h", TTL_TOO_LONG),
        Arguments.of("ttl", "100000h", TTL_TOO_LONG),
        Arguments.of("ttl", "10000000000000h", TTL_TOO_LONG),
        Arguments.of("ttl", "9999999999999999999999999999999h", TTL_TOO_LONG),
        Arguments.of("ttl", "87599h60m1ms", TTL_TOO_LONG),
        Arguments.of("ttl", "99999h99999h99999h99999h99999h", TTL_TOO_LONG));
  }

  @ParameterizedTest
  @MethodSource("durationsPastTheirMaximum")
  void snapshotWithADurationPastItsMaximumFailsWithTheMaximumAndNothingElse(
      String field, String value, String message) {
    assertEquals(
        List.of(message),
        RULES.createMessages(snapshot("podName: gpu-workload\n" + field + ": \"" + value + "\"")));
  }

  static Stream<Arguments> durationsAtTheirMaximum() {
    return Stream.of(
        Arguments.of("timeout", "24h"),
        Arguments.of("timeout", "1440m"),
        Arguments.of("timeout", "86400000ms"),
        Arguments.of("timeout", "23h59m59s1000ms"),
        Arguments.of("timeout", "0000000000000000000024h"),
        Arguments.of("ttl", "87600h"),
        Arguments.of("ttl", "5256000m"),
        Arguments.of("ttl", "315360000000ms"));
  }

  @ParameterizedTest
  @MethodSource("durationsAtTheirMaximum")
  void snapshotWithADurationAtItsMaximumPasses(String field, String value) {
    assertEquals(
        List.of(),
        RULES.createMessages(snapshot("podName: gpu-workload\n" + field + ": \"" + value + "\"")));
  }

  static Stream<Arguments> badDurations() {
    return Stream.of("timeout", "ttl")
        .flatMap(
            field ->
                Stream.of("90", "1.5h", "10 m", "1d", "", "-5s", "h", "10M")
                    .map(value -> Arguments.of(field, value)));
  }

  @ParameterizedTest
  @MethodSource("badDurations")
  void snapshotWithABadDurationFails(String field, String value) {
    assertEquals(
        List.of(BAD_DURATION),
        RULES.createMessages(snapshot("podName: gpu-workload\n" + field + ": \"" + value + "\"")));
  }

  static Stream<Arguments> goodDurations() {
    return Stream.of("timeout", "ttl")
        .flatMap(
            field ->
                Stream.of("90s", "1h30m", "10m", "500ms", "24h")
                    .map(value -> Arguments.of(field, value)));
  }

  @ParameterizedTest
  @MethodSource("goodDurations")
  void snapshotWithAGoodDurationPasses(String field, String value) {
    assertEquals(
        List.of(),
        RULES.createMessages(snapshot("podName: gpu-workload\n" + field + ": \"" + value + "\"")));
  }

  @Test
  void updateThatChangesTheSpecFailsAsImmutable() {
    Map<String, Object> old = snapshot(VALID_SPEC);
    Map<String, Object> changed = snapshot(VALID_SPEC.replace("gpu-workload", "other-workload"));
    assertEquals(List.of(IMMUTABLE), RULES.updateMessages(old, changed));
  }

  @Test
  void updateThatAddsAnOptionalSpecFieldFailsAsImmutable() {
    Map<String, Object> old = snapshot(VALID_SPEC);
    Map<String, Object> changed = snapshot(VALID_SPEC + "compression: Zstd\n");
    assertEquals(List.of(IMMUTABLE), RULES.updateMessages(old, changed));
  }

  @Test
  void updateWithAnIdenticalSpecPasses() {
    assertEquals(List.of(), RULES.updateMessages(snapshot(VALID_SPEC), snapshot(VALID_SPEC)));
  }

  @Test
  void updateThatOnlyWritesStatusPasses() {
    Map<String, Object> old = snapshot(VALID_SPEC);
    Map<String, Object> withStatus = snapshot(VALID_SPEC);
    withStatus.put("status", Map.of("phase", "Running", "observedGeneration", 1));
    assertEquals(List.of(), RULES.updateMessages(old, withStatus));
  }
}
