package dev.vfio.agent.pods;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vfio.agent.fixtures.NodeFixture;
import java.nio.file.Files;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PodCgroupsTest {
  @AutoClose NodeFixture node;

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "systemd Burstable, 7f3c2a10-5b1e-4c8f-9d2a-1e6b3c4d5e6f, "
        + "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7f3c2a10_5b1e_4c8f_9d2a_1e6b3c4d5e6f.slice",
    "systemd BestEffort, 9d8c7b6a-5f4e-4d3c-8b2a-190817263544, "
        + "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9d8c7b6a_5f4e_4d3c_8b2a_190817263544.slice",
    "systemd Guaranteed, 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d, "
        + "kubepods.slice/kubepods-pod0a1b2c3d_4e5f_4a6b_8c7d_9e0f1a2b3c4d.slice",
    "cgroupfs BestEffort, c1d2e3f4-a5b6-47c8-9d0e-f1a2b3c4d5e6, "
        + "kubepods/besteffort/podc1d2e3f4-a5b6-47c8-9d0e-f1a2b3c4d5e6",
    "cgroupfs Guaranteed, 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9, "
        + "kubepods/pod5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
  })
  void findsThePodDirectoryOfEachDriverAndQosClass(String layout, String uid, String expected)
      throws Exception {
    node = NodeFixture.build("node-a");
    assertEquals(
        List.of(node.cgroup().resolve(expected)),
        new PodCgroups(node.cgroup()).podDirectories(uid));
  }

  @Test
  void findsPodsBelowAnotherKubeletCgroupRoot() throws Exception {
    node = NodeFixture.build("node-b");
    assertEquals(
        List.of(
            node.cgroup()
                .resolve(
                    "kubelet.slice/kubelet-kubepods.slice/"
                        + "kubelet-kubepods-besteffort.slice/"
                        + "kubelet-kubepods-besteffort-pod3c4d5e6f_7a8b_4c9d_8e0f_1a2b3c4d5e6f.slice")),
        new PodCgroups(node.cgroup()).podDirectories("3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"));
  }

  @Test
  void processesOfEveryContainerAreCollectedIncludingNestedCgroups() throws Exception {
    node = NodeFixture.build("node-a");
    String pod = "kubepods.slice/kubepods-pod0a1b2c3d_4e5f_4a6b_8c7d_9e0f1a2b3c4d.slice";
    // A container that manages its own sub-cgroups (cgroup namespaces make this common for VMMs).
    node.write(
        "sys/fs/cgroup/"
            + pod
            + "/crio-06ddd71d7b46f738c026b99fbb5bf6db8af89d7bd738bbbd9e3d550ba1e5997f.scope/cgroup.procs",
        "");
    Files.createDirectories(
        node.cgroup()
            .resolve(
                pod
                    + "/crio-06ddd71d7b46f738c026b99fbb5bf6db8af89d7bd738bbbd9e3d550ba1e5997f.scope/vcpus"));
    node.write(
        "sys/fs/cgroup/"
            + pod
            + "/crio-06ddd71d7b46f738c026b99fbb5bf6db8af89d7bd738bbbd9e3d550ba1e5997f.scope/vcpus/cgroup.procs",
        "4410\n");
    SortedSet<Integer> expected = new TreeSet<>(List.of(4400, 4410));
    assertEquals(expected, new PodCgroups(node.cgroup()).processes(node.cgroup().resolve(pod)));
  }
}
