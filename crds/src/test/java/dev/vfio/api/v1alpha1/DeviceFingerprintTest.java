package dev.vfio.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DeviceFingerprintTest {
  static DeviceFingerprint cx6(String revision, List<String> flags, String driverVersion) {
    return DeviceFingerprint.of(
        "mlx5_vfio_pci", "15b3", "101e", "15b3", "0047", revision, null, flags, driverVersion);
  }

  @Test
  void theKeyIsPinnedSoThatNodesOfDifferentVersionsAgree() {
    // Computed independently: sha256("vfio.dev/fingerprint/v1\ndriver=mlx5_vfio_pci\n…") in
    // Python. A change here relabels every node and strands every snapshot's recorded key.
    assertEquals("c5b662661c64a3d5", cx6("00", List.of("STOP_COPY"), null).getCompatibilityKey());
    assertEquals(
        "25650c90ee976bc8",
        DeviceFingerprint.of(
                "vfio_mig_test", "", "", null, null, null, "vfio_mig_test-mem", null, null)
            .getCompatibilityKey());
  }

  @Test
  void idsAreNormalizedBeforeTheyAreKeyed() {
    DeviceFingerprint upper =
        DeviceFingerprint.of(
            "mlx5_vfio_pci", "0x15B3", "0x101E", "0x15B3", "0x0047", "0x00", "", null, null);

    assertEquals("15b3", upper.getVendorId());
    assertNull(upper.getMdevType());
    assertEquals(cx6("00", null, null).getCompatibilityKey(), upper.getCompatibilityKey());
  }

  @Test
  void flagsAndDriverVersionDoNotChangeTheKey() {
    assertEquals(
        cx6("00", List.of("STOP_COPY"), "1.0").getCompatibilityKey(),
        cx6("00", List.of("STOP_COPY", "P2P", "PRE_COPY"), "2.3").getCompatibilityKey());
  }

  @Test
  void everyKeyedFieldChangesTheKey() {
    DeviceFingerprint base = cx6("00", null, null);
    List<DeviceFingerprint> changed =
        List.of(
            DeviceFingerprint.of(
                "vfio-pci", "15b3", "101e", "15b3", "0047", "00", null, null, null),
            DeviceFingerprint.of(
                "mlx5_vfio_pci", "15b4", "101e", "15b3", "0047", "00", null, null, null),
            DeviceFingerprint.of(
                "mlx5_vfio_pci", "15b3", "101f", "15b3", "0047", "00", null, null, null),
            DeviceFingerprint.of(
                "mlx5_vfio_pci", "15b3", "101e", "1028", "0047", "00", null, null, null),
            DeviceFingerprint.of(
                "mlx5_vfio_pci", "15b3", "101e", "15b3", "0048", "00", null, null, null),
            cx6("01", null, null),
            DeviceFingerprint.of(
                "mlx5_vfio_pci", "15b3", "101e", "15b3", "0047", "00", "x", null, null));

    for (int i = 0; i < changed.size(); i++) {
      assertNotEquals(base.getCompatibilityKey(), changed.get(i).getCompatibilityKey());
      assertEquals(
          DeviceFingerprint.KEYED_FIELDS.get(i),
          base.firstDifference(changed.get(i)).orElseThrow().split(" ")[0]);
    }
  }

  @Test
  void theDifferenceNamesTheFieldAndBothValues() {
    assertEquals(
        Optional.of("revision (00 vs 01)"),
        cx6("00", null, null).firstDifference(cx6("01", null, null)));
    assertEquals(
        Optional.of("revision (unknown vs 01)"),
        cx6(null, null, null).firstDifference(cx6("01", null, null)));
    assertTrue(cx6("00", List.of("P2P"), "1").firstDifference(cx6("00", null, "2")).isEmpty());
  }

  @Test
  void aFingerprintReadBackFromTheApiKeepsItsKey() {
    DeviceFingerprint written = cx6("00", List.of("STOP_COPY", "P2P"), "5.0");

    DeviceFingerprint read =
        Serialization.unmarshal(Serialization.asJson(written), DeviceFingerprint.class);

    assertEquals(written.getCompatibilityKey(), read.getCompatibilityKey());
    assertEquals(written.computeKey(), read.computeKey());
    assertTrue(read.firstDifference(written).isEmpty());
  }

  @Test
  void theCheckedKeyIsComputedNotTheOneStored() {
    DeviceFingerprint forged = cx6("01", null, null);
    forged.setCompatibilityKey(cx6("00", null, null).getCompatibilityKey());

    assertNotEquals(forged.getCompatibilityKey(), forged.computeKey());
  }

  @Test
  void theLabelIsAValidKubernetesLabelKey() {
    String label = NodeLabels.compatibility(cx6("00", null, null).getCompatibilityKey());
    String name = label.substring(label.indexOf('/') + 1);

    assertTrue(name.length() <= 63);
    assertTrue(name.matches("[a-z0-9]([-a-z0-9_.]*[a-z0-9])?"));
    assertTrue(label.substring(0, label.indexOf('/')).matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?"));
  }
}
