package dev.vfio.agent.pods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vfio.agent.devices.VfioDevices;
import dev.vfio.agent.fixtures.NodeFixture;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

class CgroupPodResolverTest {
  static final PodRef A10_VM =
      pod("vms", "virt-launcher-a10-vm", "7f3c2a10-5b1e-4c8f-9d2a-1e6b3c4d5e6f");
  static final PodRef DPDK = pod("net", "dpdk-fwd", "c1d2e3f4-a5b6-47c8-9d0e-f1a2b3c4d5e6");
  static final PodRef A4000_VM =
      pod("vms", "virt-launcher-a4000-vm", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
  static final PodRef DESKTOP = pod("vdi", "desktop-3", "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9");
  static final PodRef NGINX = pod("web", "nginx", "9d8c7b6a-5f4e-4d3c-8b2a-190817263544");
  static final PodRef KIND_VM =
      pod("vms", "virt-launcher-a4000-vm", "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f");
  static final String MTTY = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e";

  @AutoClose NodeFixture fixture;

  static PodRef pod(String namespace, String name, String uid) {
    return new PodRef(namespace, name, uid, Map.of());
  }

  NodeFixture node(String name) throws IOException {
    fixture = NodeFixture.build(name);
    return fixture;
  }

  static CgroupPodResolver resolver(NodeFixture node) {
    return resolver(node, new ProcOpenFiles(node.proc()));
  }

  static CgroupPodResolver resolver(NodeFixture node, OpenFiles openFiles) {
    return new CgroupPodResolver(
        new PodCgroups(node.cgroup()), new ProcessDevices(new VfioDevices(node.root()), openFiles));
  }

  @Test
  void gpuHeldThroughTheFdOfASingleDeviceGroupIsNamedByTheGroup() throws Exception {
    assertEquals(
        List.of(new HeldDevice("0000:01:00.0", 2150, 22)),
        resolver(node("node-a")).resolve(A10_VM));
  }

  @Test
  void devicesHeldThroughCdevsAreNamedBySysfsAndReportedOnceWithTheirFirstHolder()
      throws Exception {
    // testpmd 3300 and its secondary 3310 both hold both VFs; data fds and iommufd are no devices.
    assertEquals(
        List.of(new HeldDevice("0000:41:00.2", 3300, 5), new HeldDevice("0000:41:00.3", 3300, 6)),
        resolver(node("node-a")).resolve(DPDK));
  }

  @Test
  void mdevHeldThroughItsCdevIsNamedByItsUuid() throws Exception {
    assertEquals(
        List.of(new HeldDevice("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", 5120, 21)),
        resolver(node("node-a")).resolve(DESKTOP));
  }

  @Test
  void podWithoutVfioFilesHoldsNothing() throws Exception {
    assertEquals(List.of(), resolver(node("node-a")).resolve(NGINX));
  }

  @Test
  void podWithoutACgroupOnThisNodeHoldsNothing() throws Exception {
    assertEquals(
        List.of(),
        resolver(node("node-a"))
            .resolve(pod("ml", "elsewhere", "11111111-2222-4333-8444-555555555555")));
  }

  @Test
  void deviceFdOfAGroupWithTwoDevicesIsAmbiguousWithoutFdinfo() throws Exception {
    AmbiguousDeviceException e =
        assertThrows(
            AmbiguousDeviceException.class, () -> resolver(node("node-a")).resolve(A4000_VM));
    assertEquals(4410, e.pid());
    assertEquals(22, e.fd());
    assertEquals(List.of("0000:81:00.0", "0000:81:00.1"), e.candidates());
    assertEquals(
        "pod vms/virt-launcher-a4000-vm: pid 4410 fd 22 is a VFIO device opened through "
            + "IOMMU group 60, which could be any of 0000:81:00.0, 0000:81:00.1; this kernel does not "
            + "name the device in /proc/4410/fdinfo/22 (vfio-device-syspath arrived in Linux 6.18), "
            + "so the agent cannot tell which one it is and does not guess. Have the workload open "
            + "its devices through their /dev/vfio/devices cdevs, or run Linux 6.18 or later",
        e.getMessage());
  }

  @Test
  void fdinfoSyspathNamesEachDeviceOfAMultiDeviceGroupAndMdevs() throws Exception {
    assertEquals(
        List.of(
            new HeldDevice("0000:81:00.1", 610, 22),
            new HeldDevice("0000:81:00.0", 610, 23),
            new HeldDevice(MTTY, 610, 25)),
        resolver(node("node-b")).resolve(KIND_VM));
  }

  @Test
  void groupDeviceFdWithoutAGroupInTheSameProcessCannotBeNamed() throws Exception {
    NodeFixture node = node("node-a");
    Files.delete(node.path("proc/2150/fd/21"));
    IOException e = assertThrows(IOException.class, () -> resolver(node).resolve(A10_VM));
    assertTrue(
        e.getMessage()
            .startsWith(
                "pod vms/virt-launcher-a10-vm: pid 2150 fd 22 is a VFIO "
                    + "device fd, but the process holds no VFIO group open"),
        e.getMessage());
  }

  @Test
  void processesThatExitDuringTheScanAreSkipped() throws Exception {
    // 2199 is listed in cgroup.procs of node-a but has no /proc entry; 2145 exits while read.
    NodeFixture node = node("node-a");
    OpenFiles proc = new ProcOpenFiles(node.proc());
    OpenFiles exiting =
        pid -> {
          if (pid == 2145) {
            throw new FileSystemException("/proc/2145/fd", null, "No such process");
          }
          return proc.of(pid);
        };
    CgroupPodResolver resolver = resolver(node, exiting);
    assertEquals(List.of(new HeldDevice("0000:01:00.0", 2150, 22)), resolver.resolve(A10_VM));
  }

  @Test
  void processTheAgentMayNotInspectIsNamedWithWhatTheAgentNeeds() throws Exception {
    // Root reads any fixture file, so the kernel's EACCES is stood in for.
    NodeFixture node = node("node-a");
    OpenFiles proc = new ProcOpenFiles(node.proc());
    OpenFiles guarded =
        pid -> {
          if (pid == 2150) {
            throw new AccessDeniedException(node.proc().resolve("2150/fd").toString());
          }
          return proc.of(pid);
        };
    CgroupPodResolver resolver = resolver(node, guarded);
    AccessDeniedException e =
        assertThrows(AccessDeniedException.class, () -> resolver.resolve(A10_VM));
    assertEquals(
        node.proc().resolve("2150/fd")
            + ": pod vms/virt-launcher-a10-vm: the agent may "
            + "not read the open files of pid 2150; it needs CAP_SYS_PTRACE and hostPID: true to see "
            + "into workload processes",
        e.getMessage());
  }

  @Test
  void processesOutsideTheAgentsPidNamespaceAskForHostPid() throws Exception {
    NodeFixture node = node("node-a");
    node.write(
        "sys/fs/cgroup/kubepods/besteffort/podc1d2e3f4-a5b6-47c8-9d0e-f1a2b3c4d5e6/"
            + "45f2709597e18848e602b3ec0885104f7dc0f6e0e3d800462f6fc9d6de3b2837/cgroup.procs",
        "0\n0\n");
    IOException e = assertThrows(IOException.class, () -> resolver(node).resolve(DPDK));
    assertTrue(
        e.getMessage()
            .endsWith(
                "lists processes as pid 0, which are outside the agent's "
                    + "PID namespace; run the agent with hostPID: true"),
        e.getMessage());
  }

  @Test
  void cdevThatSysfsDoesNotKnowAsksWhetherTheHostsSysIsMounted() throws Exception {
    NodeFixture node = node("node-a");
    Files.delete(node.path("sys/class/vfio-dev/vfio5"));
    IOException e = assertThrows(IOException.class, () -> resolver(node).resolve(DESKTOP));
    assertTrue(
        e.getMessage()
            .contains(
                "pod vdi/desktop-3: pid 5120 fd 21 holds "
                    + "/dev/vfio/devices/vfio5, which sysfs does not know; is the host's /sys mounted at "
                    + node.sys()
                    + "?"),
        e.getMessage());
  }

  @Test
  void hierarchyThatIsNotCgroupV2IsRefused() throws Exception {
    NodeFixture node = node("node-a");
    Files.delete(node.path("sys/fs/cgroup/cgroup.controllers"));
    IOException e = assertThrows(IOException.class, () -> resolver(node).resolve(A10_VM));
    assertTrue(e.getMessage().contains("not a cgroup v2 hierarchy"), e.getMessage());
  }
}
