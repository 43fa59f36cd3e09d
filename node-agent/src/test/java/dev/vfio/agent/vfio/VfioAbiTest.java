package dev.vfio.agent.vfio;

import static java.util.Map.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java side of the kernel ABI against the installed kernel headers: a C program compiled with
 * gcc against {@code /usr/include/linux/vfio.h} prints every constant, size and offset the headers
 * define, and each must equal what {@link VfioAbi}, {@link Libc}, {@link MigrationState}, {@link
 * MigrationFlags} and {@link Errno} use. What the installed headers lack (Debian 12's are 6.1) is
 * compared with the values of the reference, {@code docs/vfio-migration-v2.md} §1.
 */
class VfioAbiTest {
  private static final Path HEADER = Path.of("/usr/include/linux/vfio.h");

  /** What the Java side uses, by the name the C program prints. */
  private static final Map<String, Long> JAVA =
      Map.ofEntries(
          entry("VFIO_TYPE", (long) VfioAbi.VFIO_TYPE),
          entry("VFIO_BASE", (long) VfioAbi.VFIO_BASE),
          entry("VFIO_API_VERSION", (long) VfioAbi.API_VERSION),
          entry("VFIO_TYPE1_IOMMU", (long) VfioAbi.TYPE1_IOMMU),
          entry("VFIO_TYPE1v2_IOMMU", (long) VfioAbi.TYPE1V2_IOMMU),
          entry("VFIO_NOIOMMU_IOMMU", (long) VfioAbi.NOIOMMU_IOMMU),
          entry("VFIO_GET_API_VERSION", VfioAbi.GET_API_VERSION),
          entry("VFIO_CHECK_EXTENSION", VfioAbi.CHECK_EXTENSION),
          entry("VFIO_SET_IOMMU", VfioAbi.SET_IOMMU),
          entry("VFIO_GROUP_GET_STATUS", VfioAbi.GROUP_GET_STATUS),
          entry("VFIO_GROUP_SET_CONTAINER", VfioAbi.GROUP_SET_CONTAINER),
          entry("VFIO_GROUP_UNSET_CONTAINER", VfioAbi.GROUP_UNSET_CONTAINER),
          entry("VFIO_GROUP_GET_DEVICE_FD", VfioAbi.GROUP_GET_DEVICE_FD),
          entry("VFIO_DEVICE_GET_INFO", VfioAbi.DEVICE_GET_INFO),
          entry("VFIO_DEVICE_GET_REGION_INFO", VfioAbi.DEVICE_GET_REGION_INFO),
          entry("VFIO_DEVICE_RESET", VfioAbi.DEVICE_RESET),
          entry("VFIO_DEVICE_FEATURE", VfioAbi.DEVICE_FEATURE),
          entry("VFIO_DEVICE_BIND_IOMMUFD", VfioAbi.DEVICE_BIND_IOMMUFD),
          entry("VFIO_MIG_GET_PRECOPY_INFO", VfioAbi.MIG_GET_PRECOPY_INFO),
          entry("VFIO_GROUP_FLAGS_VIABLE", (long) VfioAbi.GROUP_FLAGS_VIABLE),
          entry("VFIO_GROUP_FLAGS_CONTAINER_SET", (long) VfioAbi.GROUP_FLAGS_CONTAINER_SET),
          entry("VFIO_DEVICE_FLAGS_RESET", (long) VfioAbi.DEVICE_FLAGS_RESET),
          entry("VFIO_DEVICE_FLAGS_PCI", (long) VfioAbi.DEVICE_FLAGS_PCI),
          entry("VFIO_DEVICE_FEATURE_MASK", (long) VfioAbi.FEATURE_MASK),
          entry("VFIO_DEVICE_FEATURE_GET", (long) VfioAbi.FEATURE_GET),
          entry("VFIO_DEVICE_FEATURE_SET", (long) VfioAbi.FEATURE_SET),
          entry("VFIO_DEVICE_FEATURE_PROBE", (long) VfioAbi.FEATURE_PROBE),
          entry("VFIO_DEVICE_FEATURE_MIGRATION", (long) VfioAbi.FEATURE_MIGRATION),
          entry("VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE", (long) VfioAbi.FEATURE_MIG_DEVICE_STATE),
          entry("VFIO_DEVICE_FEATURE_MIG_DATA_SIZE", (long) VfioAbi.FEATURE_MIG_DATA_SIZE),
          entry("VFIO_MIGRATION_STOP_COPY", MigrationFlags.STOP_COPY),
          entry("VFIO_MIGRATION_P2P", MigrationFlags.P2P),
          entry("VFIO_MIGRATION_PRE_COPY", MigrationFlags.PRE_COPY),
          entry("VFIO_DEVICE_STATE_ERROR", (long) MigrationState.ERROR.value()),
          entry("VFIO_DEVICE_STATE_STOP", (long) MigrationState.STOP.value()),
          entry("VFIO_DEVICE_STATE_RUNNING", (long) MigrationState.RUNNING.value()),
          entry("VFIO_DEVICE_STATE_STOP_COPY", (long) MigrationState.STOP_COPY.value()),
          entry("VFIO_DEVICE_STATE_RESUMING", (long) MigrationState.RESUMING.value()),
          entry("VFIO_DEVICE_STATE_RUNNING_P2P", (long) MigrationState.RUNNING_P2P.value()),
          entry("VFIO_DEVICE_STATE_PRE_COPY", (long) MigrationState.PRE_COPY.value()),
          entry("VFIO_DEVICE_STATE_PRE_COPY_P2P", (long) MigrationState.PRE_COPY_P2P.value()),
          entry("sizeof(vfio_group_status)", (long) VfioAbi.GROUP_STATUS_SIZE),
          entry("offsetof(vfio_group_status.argsz)", (long) VfioAbi.GROUP_STATUS_ARGSZ),
          entry("offsetof(vfio_group_status.flags)", (long) VfioAbi.GROUP_STATUS_FLAGS),
          entry("offsetof(vfio_device_info.argsz)", (long) VfioAbi.DEVICE_INFO_ARGSZ),
          entry("offsetof(vfio_device_info.flags)", (long) VfioAbi.DEVICE_INFO_FLAGS),
          entry("offsetof(vfio_device_info.num_regions)", (long) VfioAbi.DEVICE_INFO_NUM_REGIONS),
          entry("offsetof(vfio_device_info.num_irqs)", (long) VfioAbi.DEVICE_INFO_NUM_IRQS),
          entry("offsetof(vfio_device_info.cap_offset)", (long) VfioAbi.DEVICE_INFO_CAP_OFFSET),
          entry("sizeof(vfio_region_info)", (long) VfioAbi.REGION_INFO_SIZE),
          entry("offsetof(vfio_region_info.argsz)", (long) VfioAbi.REGION_INFO_ARGSZ),
          entry("offsetof(vfio_region_info.flags)", (long) VfioAbi.REGION_INFO_FLAGS),
          entry("offsetof(vfio_region_info.index)", (long) VfioAbi.REGION_INFO_INDEX),
          entry("offsetof(vfio_region_info.cap_offset)", (long) VfioAbi.REGION_INFO_CAP_OFFSET),
          entry("offsetof(vfio_region_info.size)", (long) VfioAbi.REGION_INFO_SIZE_FIELD),
          entry("offsetof(vfio_region_info.offset)", (long) VfioAbi.REGION_INFO_OFFSET),
          entry("VFIO_REGION_INFO_FLAG_CAPS", (long) VfioAbi.REGION_INFO_FLAG_CAPS),
          entry("sizeof(vfio_info_cap_header)", (long) VfioAbi.INFO_CAP_HEADER_SIZE),
          entry("offsetof(vfio_info_cap_header.id)", (long) VfioAbi.INFO_CAP_ID),
          entry("offsetof(vfio_info_cap_header.version)", (long) VfioAbi.INFO_CAP_VERSION),
          entry("offsetof(vfio_info_cap_header.next)", (long) VfioAbi.INFO_CAP_NEXT),
          entry("VFIO_REGION_INFO_CAP_TYPE", (long) VfioAbi.REGION_INFO_CAP_TYPE),
          entry("sizeof(vfio_region_info_cap_type)", (long) VfioAbi.CAP_TYPE_SIZE),
          entry("offsetof(vfio_region_info_cap_type.type)", (long) VfioAbi.CAP_TYPE_TYPE),
          entry("offsetof(vfio_region_info_cap_type.subtype)", (long) VfioAbi.CAP_TYPE_SUBTYPE),
          entry(
              "VFIO_REGION_TYPE_MIGRATION_DEPRECATED",
              (long) VfioAbi.REGION_TYPE_MIGRATION_DEPRECATED),
          entry(
              "VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED",
              (long) VfioAbi.REGION_SUBTYPE_MIGRATION_DEPRECATED),
          entry("sizeof(vfio_device_feature)", (long) VfioAbi.FEATURE_HEADER_SIZE),
          entry("offsetof(vfio_device_feature.argsz)", (long) VfioAbi.FEATURE_ARGSZ),
          entry("offsetof(vfio_device_feature.flags)", (long) VfioAbi.FEATURE_FLAGS),
          entry("offsetof(vfio_device_feature.data)", (long) VfioAbi.FEATURE_DATA),
          entry("sizeof(vfio_device_feature_migration)", (long) VfioAbi.MIGRATION_SIZE),
          entry("offsetof(vfio_device_feature_migration.flags)", (long) VfioAbi.MIGRATION_FLAGS),
          entry("sizeof(vfio_device_feature_mig_state)", (long) VfioAbi.MIG_STATE_SIZE),
          entry(
              "offsetof(vfio_device_feature_mig_state.device_state)",
              (long) VfioAbi.MIG_STATE_DEVICE_STATE),
          entry(
              "offsetof(vfio_device_feature_mig_state.data_fd)", (long) VfioAbi.MIG_STATE_DATA_FD),
          entry("sizeof(vfio_device_feature_mig_data_size)", (long) VfioAbi.MIG_DATA_SIZE_SIZE),
          entry(
              "offsetof(vfio_device_feature_mig_data_size.stop_copy_length)",
              (long) VfioAbi.MIG_DATA_SIZE_STOP_COPY_LENGTH),
          entry("sizeof(vfio_precopy_info)", (long) VfioAbi.PRECOPY_INFO_SIZE),
          entry("offsetof(vfio_precopy_info.argsz)", (long) VfioAbi.PRECOPY_INFO_ARGSZ),
          entry("offsetof(vfio_precopy_info.flags)", (long) VfioAbi.PRECOPY_INFO_FLAGS),
          entry(
              "offsetof(vfio_precopy_info.initial_bytes)",
              (long) VfioAbi.PRECOPY_INFO_INITIAL_BYTES),
          entry("offsetof(vfio_precopy_info.dirty_bytes)", (long) VfioAbi.PRECOPY_INFO_DIRTY_BYTES),
          entry("VFIO_PRECOPY_INFO_REINIT", (long) VfioAbi.PRECOPY_INFO_REINIT),
          entry(
              "VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2", (long) VfioAbi.FEATURE_MIG_PRECOPY_INFO_V2),
          entry("offsetof(vfio_device_bind_iommufd.argsz)", (long) VfioAbi.BIND_IOMMUFD_ARGSZ),
          entry("offsetof(vfio_device_bind_iommufd.flags)", (long) VfioAbi.BIND_IOMMUFD_FLAGS),
          entry("offsetof(vfio_device_bind_iommufd.iommufd)", (long) VfioAbi.BIND_IOMMUFD_IOMMUFD),
          entry(
              "offsetof(vfio_device_bind_iommufd.out_devid)",
              (long) VfioAbi.BIND_IOMMUFD_OUT_DEVID),
          entry("O_RDWR", (long) Libc.O_RDWR),
          entry("O_CLOEXEC", (long) Libc.O_CLOEXEC),
          entry("SYS_pidfd_open", Libc.SYS_PIDFD_OPEN),
          entry("SYS_pidfd_getfd", Libc.SYS_PIDFD_GETFD),
          entry("EINTR", (long) Libc.EINTR));

  /**
   * Definitions the 6.1 headers lack, with the values of {@code docs/vfio-migration-v2.md} §1
   * (checked there by compiling against recent headers): the PRE_COPY flag and states (6.2),
   * MIG_DATA_SIZE and its struct (6.2), VFIO_MIG_GET_PRECOPY_INFO = 0x3B79 and the 24-byte {@code
   * vfio_precopy_info} (6.2), VFIO_DEVICE_BIND_IOMMUFD = 0x3B76 with {@code {u32 argsz; u32 flags;
   * s32 iommufd; u32 out_devid}} (6.6); and, from the upstream commits of Linux 7.1
   * (docs/decisions/0007-precopy-info-v2.md), feature 12 MIG_PRECOPY_INFOv2 and the output flag
   * VFIO_PRECOPY_INFO_REINIT = 1 &lt;&lt; 0.
   */
  private static final Map<String, Long> REFERENCE =
      Map.ofEntries(
          entry("VFIO_MIGRATION_PRE_COPY", 4L),
          entry("VFIO_DEVICE_STATE_PRE_COPY", 6L),
          entry("VFIO_DEVICE_STATE_PRE_COPY_P2P", 7L),
          entry("VFIO_DEVICE_FEATURE_MIG_DATA_SIZE", 9L),
          entry("sizeof(vfio_device_feature_mig_data_size)", 8L),
          entry("offsetof(vfio_device_feature_mig_data_size.stop_copy_length)", 0L),
          entry("VFIO_MIG_GET_PRECOPY_INFO", 0x3B79L),
          entry("sizeof(vfio_precopy_info)", 24L),
          entry("offsetof(vfio_precopy_info.argsz)", 0L),
          entry("offsetof(vfio_precopy_info.flags)", 4L),
          entry("offsetof(vfio_precopy_info.initial_bytes)", 8L),
          entry("offsetof(vfio_precopy_info.dirty_bytes)", 16L),
          entry("VFIO_PRECOPY_INFO_REINIT", 1L),
          entry("VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2", 12L),
          entry("VFIO_DEVICE_BIND_IOMMUFD", 0x3B76L),
          entry("offsetof(vfio_device_bind_iommufd.argsz)", 0L),
          entry("offsetof(vfio_device_bind_iommufd.flags)", 4L),
          entry("offsetof(vfio_device_bind_iommufd.iommufd)", 8L),
          entry("offsetof(vfio_device_bind_iommufd.out_devid)", 12L));

  private static Map<String, Long> header;

  @BeforeAll
  static void compileAgainstTheInstalledHeader(@TempDir Path dir) throws Exception {
    if (!Files.exists(HEADER)) {
      fail(HEADER + " is missing: install linux-libc-dev (kernel-testbed/install.sh does)");
    }
    Path source = dir.resolve("abi-probe.c");
    try (InputStream in = VfioAbiTest.class.getResourceAsStream("abi-probe.c")) {
      Files.copy(in, source);
    }
    Path binary = dir.resolve("abi-probe");
    run(dir, "gcc", "-Wall", "-Werror", "-o", binary.toString(), source.toString());
    header = new HashMap<>();
    for (String line : run(dir, binary.toString()).split("\n")) {
      String[] field = line.split(" ");
      header.put(field[0], Long.parseLong(field[1]));
    }
  }

  @Test
  void everythingTheInstalledHeaderDefinesMatchesTheJavaSide() {
    List<String> mismatches = new ArrayList<>();
    Map<String, Long> compared = new TreeMap<>(header);
    compared.remove("sizeof(vfio_device_info)");
    compared.keySet().retainAll(JAVA.keySet());
    for (Map.Entry<String, Long> expected : compared.entrySet()) {
      long java = JAVA.get(expected.getKey());
      if (java != expected.getValue()) {
        mismatches.add(expected.getKey() + ": header " + expected.getValue() + ", Java " + java);
      }
    }
    assertEquals(List.of(), mismatches);
    // Guards against a probe that stopped printing: the 6.1 headers define at least these.
    assertTrue(compared.size() >= 74, "only " + compared.size() + " values compared: " + compared);
  }

  @Test
  void whatTheInstalledHeaderLacksMatchesTheReference() {
    List<String> mismatches = new ArrayList<>();
    for (Map.Entry<String, Long> java : new TreeMap<>(JAVA).entrySet()) {
      if (header.containsKey(java.getKey())) {
        continue;
      }
      Long reference = REFERENCE.get(java.getKey());
      if (reference == null) {
        mismatches.add(java.getKey() + ": neither the header nor the reference defines it");
      } else if (reference.longValue() != java.getValue()) {
        mismatches.add(java.getKey() + ": reference " + reference + ", Java " + java.getValue());
      }
    }
    assertEquals(List.of(), mismatches);
  }

  @Test
  void everyErrnoTheAgentNamesHasTheLibcNumber() {
    List<String> mismatches = new ArrayList<>();
    for (Errno errno : Errno.values()) {
      if (errno == Errno.EOTHER) {
        continue;
      }
      Long expected = header.get(errno.name());
      if (expected == null || expected != errno.value()) {
        mismatches.add(errno + ": errno.h " + expected + ", Java " + errno.value());
      }
    }
    assertEquals(List.of(), mismatches);
  }

  /**
   * The reference's recent header adds a trailing u32 pad to {@code vfio_device_info} (24 bytes);
   * 6.1's ends at {@code cap_offset} (20). Kernels fill only up to {@code num_irqs}, so the agent's
   * 24-byte argsz suits both.
   */
  @Test
  void deviceInfoHasTheRecentSizeWhichOlderHeadersEndBefore() {
    long installed = header.get("sizeof(vfio_device_info)");
    assertTrue(installed == 20 || installed == 24, "sizeof(vfio_device_info) is " + installed);
    assertEquals(24, VfioAbi.DEVICE_INFO_SIZE);
  }

  /** Runs a command in {@code dir}, failing the test with its output if it does not succeed. */
  private static String run(Path dir, String... command) throws IOException, InterruptedException {
    Process process;
    try {
      process =
          new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError(
          command[0]
              + " could not be started ("
              + e.getMessage()
              + "): the ABI check needs gcc; install it with kernel-testbed/install.sh",
          e);
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      fail(String.join(" ", command) + " failed:\n" + output);
    }
    return output;
  }
}
