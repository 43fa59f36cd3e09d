package dev.vfio.agent.pods;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FdTargetTest {
  @ParameterizedTest
  @CsvSource({"/dev/vfio/12, 12", "/dev/vfio/noiommu-0, 0"})
  void groupFilesNameTheirGroup(String link, String group) {
    assertEquals(new FdTarget.Group(group), FdTarget.parse(link));
  }

  @ParameterizedTest
  @ValueSource(strings = {"vfio0", "vfio17"})
  void cdevFilesNameTheirCdev(String cdev) {
    assertEquals(new FdTarget.Cdev(cdev), FdTarget.parse("/dev/vfio/devices/" + cdev));
  }

  @ParameterizedTest
  @ValueSource(strings = {"anon_inode:[vfio-device]"})
  void deviceFdsFromAGroupAreRecognised(String link) {
    assertEquals(new FdTarget.GroupDevice(), FdTarget.parse(link));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/dev/vfio/vfio",
        "/dev/iommu",
        "anon_inode:mlx5vf_mig",
        "anon_inode:mtty_mig",
        "anon_inode:hisi_acc_vf_mig",
        "anon_inode:[eventfd]",
        "/dev/vfio/devices",
        "/dev/vfio/12 (deleted)",
        "socket:[40980]",
        "/dev/null"
      })
  void containersIommufdAndDataFdsAreNoDevices(String link) {
    assertEquals(new FdTarget.Other(), FdTarget.parse(link));
  }
}
