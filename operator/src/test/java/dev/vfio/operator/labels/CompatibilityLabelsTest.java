package dev.vfio.operator.labels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.api.v1alpha1.DeviceFingerprint;
import dev.vfio.api.v1alpha1.NodeDevice;
import dev.vfio.api.v1alpha1.VfioNode;
import dev.vfio.api.v1alpha1.VfioNodeStatus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CompatibilityLabelsTest {
  static final DeviceFingerprint H100 = fingerprint("10de", "2330", "a1");
  static final DeviceFingerprint H100_REV_A2 = fingerprint("10de", "2330", "a2");
  static final DeviceFingerprint CX6 = fingerprint("15b3", "101e", "00");

  @Test
  void oneLabelPerKeyAmongTheDevicesThatCanTakeState() {
    VfioNode node =
        node(
            device(H100, "STOP_COPY", "P2P"),
            device(H100, "STOP_COPY"),
            device(H100_REV_A2, "STOP_COPY"),
            device(CX6));

    assertEquals(
        Set.of(
            "compat.vfio.dev/" + H100.getCompatibilityKey(),
            "compat.vfio.dev/" + H100_REV_A2.getCompatibilityKey()),
        CompatibilityLabels.of(node),
        "two H100s share one label; the NIC without STOP_COPY has none");
  }

  @Test
  void aDeviceWithoutFingerprintAndANodeWithoutStatusCallForNoLabel() {
    assertEquals(Set.of(), CompatibilityLabels.of(node(device(null, "STOP_COPY"))));
    VfioNode empty = new VfioNode();
    assertEquals(Set.of(), CompatibilityLabels.of(empty));
  }

  @Test
  void theLabelNamesTheKeyComputedFromTheFieldsNotTheStoredString() {
    DeviceFingerprint forged = fingerprint("10de", "2330", "a1");
    forged.setCompatibilityKey("not-a-key/../x");

    assertEquals(
        Set.of("compat.vfio.dev/" + H100.getCompatibilityKey()),
        CompatibilityLabels.of(node(device(forged, "STOP_COPY"))));
  }

  @Test
  void changesAddMissingLabelsAndRemoveStaleOnesAndNameNoOther() {
    Map<String, String> current = new HashMap<>();
    current.put("kubernetes.io/hostname", "node-a");
    current.put("compat.vfio.dev/" + H100.getCompatibilityKey(), "true");
    current.put("compat.vfio.dev/0123456789abcdef", "true");

    Map<String, String> changes =
        CompatibilityLabels.changes(
            current,
            Set.of(
                "compat.vfio.dev/" + H100.getCompatibilityKey(),
                "compat.vfio.dev/" + CX6.getCompatibilityKey()));

    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("compat.vfio.dev/" + CX6.getCompatibilityKey(), "true");
    expected.put("compat.vfio.dev/0123456789abcdef", null);
    assertEquals(expected, changes);
  }

  @Test
  void aNodeThatCarriesExactlyItsLabelsNeedsNoChange() {
    String label = "compat.vfio.dev/" + H100.getCompatibilityKey();

    assertTrue(
        CompatibilityLabels.changes(Map.of(label, "true", "zone", "a"), Set.of(label)).isEmpty());
    assertTrue(CompatibilityLabels.changes(null, Set.of()).isEmpty());
  }

  @Test
  void aCompatibilityLabelWithAnotherValueIsSetBackToTrue() {
    String label = "compat.vfio.dev/" + H100.getCompatibilityKey();

    assertEquals(
        Map.of(label, "true"), CompatibilityLabels.changes(Map.of(label, "false"), Set.of(label)));
  }

  static DeviceFingerprint fingerprint(String vendor, String device, String revision) {
    return DeviceFingerprint.of(
        "vfio-pci", vendor, device, vendor, "0001", revision, null, List.of(), null);
  }

  static NodeDevice device(DeviceFingerprint fingerprint, String... flags) {
    NodeDevice device = new NodeDevice();
    device.setFingerprint(fingerprint);
    device.setMigrationFlags(new ArrayList<>(Arrays.asList(flags)));
    return device;
  }

  static VfioNode node(NodeDevice... devices) {
    VfioNode node = new VfioNode();
    VfioNodeStatus status = new VfioNodeStatus();
    status.setDevices(List.of(devices));
    node.setStatus(status);
    return node;
  }
}
