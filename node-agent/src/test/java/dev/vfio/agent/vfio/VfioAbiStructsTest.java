package dev.vfio.agent.vfio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The structs {@link VfioAbi} builds and reads, byte for byte as the kernel writes and reads them:
 * the precopy info v2 opt-in, the REINIT flag, and the region info capability chain that tells a v1
 * migration device.
 */
class VfioAbiStructsTest {
  @Test
  void precopyInfoV2IsProbedAndSetAsAFeatureWithoutPayload() {
    Memory probe = VfioAbi.probePrecopyInfoV2();
    assertEquals(8, probe.size());
    assertEquals(8, probe.getInt(0), "argsz: the header alone");
    assertEquals((1 << 18) | (1 << 17) | 12, probe.getInt(4), "PROBE | SET | feature 12");

    Memory set = VfioAbi.setPrecopyInfoV2();
    assertEquals(8, set.getInt(0));
    assertEquals((1 << 17) | 12, set.getInt(4), "SET | feature 12");
  }

  @Test
  void precopyInfoReadsTheReinitBitOfTheFlags() {
    Memory info = VfioAbi.precopyInfo();
    assertEquals(24, info.getInt(0));
    assertEquals(0, info.getInt(4), "flags go to the kernel as 0: v1 copies them back");
    info.setInt(4, 1);
    info.setLong(8, 4096);
    info.setLong(16, 0);
    assertEquals(new PrecopyInfo(4096, 0, true), VfioAbi.precopyInfo(info));

    info.setInt(4, 2);
    info.setLong(16, 512);
    assertEquals(
        new PrecopyInfo(4096, 512, false), VfioAbi.precopyInfo(info), "only bit 0 is REINIT");
  }

  @Test
  void aRegionInfoBufferAsksForItsIndexAndSaysItsSize() {
    Memory info = VfioAbi.regionInfo(9, VfioAbi.REGION_INFO_SIZE);
    assertEquals(32, info.size());
    assertEquals(32, info.getInt(0));
    assertEquals(9, info.getInt(8));

    assertEquals(72, VfioAbi.regionInfo(9, 72).getInt(0));
  }

  @Test
  void aRegionWithCapabilitiesThatDidNotFitAsksForMoreRoom() {
    Memory info = VfioAbi.regionInfo(9, VfioAbi.REGION_INFO_SIZE);
    // What the kernel writes into a buffer too small for the chain: the CAPS flag, argsz the
    // size it needs, cap_offset 0.
    info.setInt(4, VfioAbi.REGION_INFO_FLAG_CAPS | 0x3);
    info.setInt(0, 48);
    assertEquals(48, VfioAbi.regionInfoRoomNeeded(info));

    info.setInt(4, 0x3);
    assertEquals(0, VfioAbi.regionInfoRoomNeeded(info), "no capabilities, nothing more to ask");
    info.setInt(4, VfioAbi.REGION_INFO_FLAG_CAPS);
    info.setInt(0, 32);
    assertEquals(0, VfioAbi.regionInfoRoomNeeded(info), "everything fit");
    info.setInt(0, 1 << 24);
    assertEquals(0, VfioAbi.regionInfoRoomNeeded(info), "no region's info is that large");
  }

  @Test
  void theTypeCapabilityIsFoundBehindOtherCapabilities() {
    // The v1 migration region as vfio-pci variant drivers before 5.18 described it: a sparse mmap
    // capability (for the data section), then the type capability.
    Memory info = regionWithChain(32 + 16 + 16 + 16, 32);
    capability(info, 32, 1, 64);
    info.setInt(40, 1);
    capability(info, 64, 2, 0);
    info.setInt(72, 3);
    info.setInt(76, 1);

    assertEquals(Optional.of(RegionType.MIGRATION_V1), VfioAbi.regionType(info));
  }

  @Test
  void aPciVendorRegionTypeKeepsItsHighBit() {
    Memory info = regionWithChain(48, 32);
    capability(info, 32, 2, 0);
    info.setInt(40, (1 << 31) | 0x10de);
    info.setInt(44, 1);
    assertEquals(Optional.of(new RegionType(0x8000_10deL, 1)), VfioAbi.regionType(info));
  }

  @Test
  void aBrokenChainEndsTheWalkInsteadOfLoopingOrReadingPastTheBuffer() {
    Memory loop = regionWithChain(64, 32);
    capability(loop, 32, 1, 32);
    assertEquals(Optional.empty(), VfioAbi.regionType(loop), "a capability naming itself next");

    Memory backwards = regionWithChain(64, 48);
    capability(backwards, 48, 1, 32);
    capability(backwards, 32, 2, 0);
    assertEquals(Optional.empty(), VfioAbi.regionType(backwards), "a chain running backwards");

    Memory truncated = regionWithChain(44, 32);
    capability(truncated, 32, 2, 0);
    assertEquals(
        Optional.empty(), VfioAbi.regionType(truncated), "a type capability cut off by argsz");

    Memory noCaps = regionWithChain(48, 32);
    capability(noCaps, 32, 2, 0);
    noCaps.setInt(4, 0);
    assertFalse(VfioAbi.regionType(noCaps).isPresent(), "without the CAPS flag there is no chain");
  }

  /** A filled region info of {@code argsz} bytes whose chain starts at {@code first}. */
  private static Memory regionWithChain(int argsz, int first) {
    Memory info = VfioAbi.regionInfo(9, Math.max(argsz, 64));
    info.setInt(0, argsz);
    info.setInt(4, VfioAbi.REGION_INFO_FLAG_CAPS);
    info.setInt(12, first);
    assertTrue(info.size() >= argsz);
    return info;
  }

  private static void capability(Memory info, int at, int id, int next) {
    info.setShort(at, (short) id);
    info.setShort(at + 2, (short) 1);
    info.setInt(at + 4, next);
  }
}
