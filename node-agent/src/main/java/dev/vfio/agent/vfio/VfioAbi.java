package dev.vfio.agent.vfio;

import com.sun.jna.Memory;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The kernel ABI of VFIO as the agent uses it: ioctl request numbers, feature indexes and flags,
 * and the byte layout of every struct passed to those ioctls. Nothing else in the agent knows a
 * number or an offset; the classes above build and read structs only through the methods here, so
 * this class grows with every ioctl the agent learns, and is meant to.
 *
 * <p>Every VFIO ioctl is {@code _IO(';', 100 + N)}: the encoded size is 0 and the struct's own
 * {@code argsz} carries its length. With {@code _IOC_NONE == 0}, as on x86-64 and arm64, the
 * request is {@code 0x3b00 | (100 + N)}; other architectures encode {@code _IOC_NONE} differently
 * and are refused by {@link #requireSupportedArchitecture()}. Values and layouts follow {@code
 * include/uapi/linux/vfio.h}; those missing from the 6.1 headers (MIG_DATA_SIZE, PRECOPY_INFO,
 * BIND_IOMMUFD) follow the reference, {@code docs/vfio-migration-v2.md} §1, and MIG_PRECOPY_INFOv2
 * with its REINIT flag (Linux 7.1) follows the upstream commits named in {@code
 * docs/decisions/0007-precopy-info-v2.md}. {@code VfioAbiTest} compiles a C program against the
 * installed header and compares.
 *
 * <p>Structs are little-endian native memory ({@link Memory} writes in native order), zeroed before
 * use so that reserved fields and padding go to the kernel as 0.
 *
 * <p>Every ioctl number and struct layout the agent uses sits in this one file, past 300 lines, so
 * that a reviewer checks all of them against {@code include/uapi/linux/vfio.h} in one read.
 */
final class VfioAbi {
  static final int VFIO_TYPE = ';';
  static final int VFIO_BASE = 100;

  /** What {@link #GET_API_VERSION} answers on every kernel with this uAPI. */
  static final int API_VERSION = 0;

  static final int TYPE1_IOMMU = 1;
  static final int TYPE1V2_IOMMU = 3;
  static final int NOIOMMU_IOMMU = 8;

  // Container (/dev/vfio/vfio).
  static final long GET_API_VERSION = io(0);
  static final long CHECK_EXTENSION = io(1);
  static final long SET_IOMMU = io(2);
  // Group (/dev/vfio/N).
  static final long GROUP_GET_STATUS = io(3);
  static final long GROUP_SET_CONTAINER = io(4);
  static final long GROUP_UNSET_CONTAINER = io(5);
  static final long GROUP_GET_DEVICE_FD = io(6);
  // Device fd.
  static final long DEVICE_GET_INFO = io(7);
  static final long DEVICE_GET_REGION_INFO = io(8);
  static final long DEVICE_RESET = io(11);
  static final long DEVICE_FEATURE = io(17);

  /** cdev fd ({@code /dev/vfio/devices/vfioN}), Linux 6.6 and later. */
  static final long DEVICE_BIND_IOMMUFD = io(18);

  /**
   * Issued on a data_fd, Linux 6.2 and later. The same number is VFIO_EEH_PE_OP on a container:
   * request numbers are per fd type.
   */
  static final long MIG_GET_PRECOPY_INFO = io(21);

  static final int GROUP_FLAGS_VIABLE = 1;
  static final int GROUP_FLAGS_CONTAINER_SET = 1 << 1;

  static final int DEVICE_FLAGS_RESET = 1;
  static final int DEVICE_FLAGS_PCI = 1 << 1;

  static final int FEATURE_MASK = 0xffff;
  static final int FEATURE_GET = 1 << 16;
  static final int FEATURE_SET = 1 << 17;
  static final int FEATURE_PROBE = 1 << 18;

  static final int FEATURE_MIGRATION = 1;
  static final int FEATURE_MIG_DEVICE_STATE = 2;
  static final int FEATURE_MIG_DATA_SIZE = 9;

  /**
   * Linux 7.1: a SET with no payload opts the open device in to precopy info v2, in which {@code
   * vfio_precopy_info.flags} is output ({@link #PRECOPY_INFO_REINIT}); before it the kernel copies
   * the caller's flags back. The opt-in lasts until the device's last close.
   */
  static final int FEATURE_MIG_PRECOPY_INFO_V2 = 12;

  // struct vfio_group_status
  static final int GROUP_STATUS_ARGSZ = 0;
  static final int GROUP_STATUS_FLAGS = 4;
  static final int GROUP_STATUS_SIZE = 8;

  // struct vfio_device_info. The 6.1 header ends at cap_offset (20 bytes); later headers add a
  // u32 pad (24). Kernels read and fill only up to num_irqs, so either argsz works.
  static final int DEVICE_INFO_ARGSZ = 0;
  static final int DEVICE_INFO_FLAGS = 4;
  static final int DEVICE_INFO_NUM_REGIONS = 8;
  static final int DEVICE_INFO_NUM_IRQS = 12;
  static final int DEVICE_INFO_CAP_OFFSET = 16;
  static final int DEVICE_INFO_SIZE = 24;

  // struct vfio_device_feature: an 8-byte header, then the feature's payload.
  static final int FEATURE_ARGSZ = 0;
  static final int FEATURE_FLAGS = 4;
  static final int FEATURE_DATA = 8;
  static final int FEATURE_HEADER_SIZE = 8;

  // struct vfio_device_feature_migration
  static final int MIGRATION_FLAGS = 0;
  static final int MIGRATION_SIZE = 8;

  // struct vfio_device_feature_mig_state
  static final int MIG_STATE_DEVICE_STATE = 0;
  static final int MIG_STATE_DATA_FD = 4;
  static final int MIG_STATE_SIZE = 8;

  // struct vfio_device_feature_mig_data_size
  static final int MIG_DATA_SIZE_STOP_COPY_LENGTH = 0;
  static final int MIG_DATA_SIZE_SIZE = 8;

  // struct vfio_precopy_info
  static final int PRECOPY_INFO_ARGSZ = 0;
  static final int PRECOPY_INFO_FLAGS = 4;
  static final int PRECOPY_INFO_INITIAL_BYTES = 8;
  static final int PRECOPY_INFO_DIRTY_BYTES = 16;
  static final int PRECOPY_INFO_SIZE = 24;

  /** Output flag under precopy info v2: new initial data is on the stream. */
  static final int PRECOPY_INFO_REINIT = 1;

  // struct vfio_region_info, then its capability chain in the same buffer.
  static final int REGION_INFO_ARGSZ = 0;
  static final int REGION_INFO_FLAGS = 4;
  static final int REGION_INFO_INDEX = 8;
  static final int REGION_INFO_CAP_OFFSET = 12;
  static final int REGION_INFO_SIZE_FIELD = 16;
  static final int REGION_INFO_OFFSET = 24;
  static final int REGION_INFO_SIZE = 32;
  static final int REGION_INFO_FLAG_CAPS = 1 << 3;

  /** The kernel caps a region's info at a page or so; more than this is not a real answer. */
  static final int REGION_INFO_MAX_ARGSZ = 1 << 16;

  // struct vfio_info_cap_header, at the start of every capability.
  static final int INFO_CAP_ID = 0;
  static final int INFO_CAP_VERSION = 2;
  static final int INFO_CAP_NEXT = 4;
  static final int INFO_CAP_HEADER_SIZE = 8;

  // struct vfio_region_info_cap_type
  static final int REGION_INFO_CAP_TYPE = 2;
  static final int CAP_TYPE_TYPE = 8;
  static final int CAP_TYPE_SUBTYPE = 12;
  static final int CAP_TYPE_SIZE = 16;

  /** The v1 migration region of kernels before 5.18, renamed _DEPRECATED when v2 arrived. */
  static final int REGION_TYPE_MIGRATION_DEPRECATED = 3;

  static final int REGION_SUBTYPE_MIGRATION_DEPRECATED = 1;

  // struct vfio_device_bind_iommufd. Later kernels append a u64 token_uuid_ptr (flag bit 0);
  // 16 bytes is the size every kernel with BIND_IOMMUFD accepts.
  static final int BIND_IOMMUFD_ARGSZ = 0;
  static final int BIND_IOMMUFD_FLAGS = 4;
  static final int BIND_IOMMUFD_IOMMUFD = 8;
  static final int BIND_IOMMUFD_OUT_DEVID = 12;
  static final int BIND_IOMMUFD_SIZE = 16;

  private VfioAbi() {}

  /** {@code _IO(VFIO_TYPE, VFIO_BASE + n)} where {@code _IOC_NONE} is 0. */
  private static long io(int n) {
    return (VFIO_TYPE << 8) | (VFIO_BASE + n);
  }

  /**
   * Refuses to run where the request numbers above would be wrong: the {@code _IO} encoding assumed
   * here holds on x86-64 and arm64 only.
   */
  static void requireSupportedArchitecture() {
    String arch = System.getProperty("os.arch");
    if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
      throw new UnsupportedOperationException(
          "VFIO request numbers are encoded for x86-64 and "
              + "arm64 only; this JVM runs on "
              + arch);
    }
  }

  /** {@code struct vfio_group_status} for GROUP_GET_STATUS. */
  static Memory groupStatus() {
    Memory status = zeroed(GROUP_STATUS_SIZE);
    status.setInt(GROUP_STATUS_ARGSZ, GROUP_STATUS_SIZE);
    return status;
  }

  static int groupStatusFlags(Memory status) {
    return status.getInt(GROUP_STATUS_FLAGS);
  }

  /** The {@code s32} container fd GROUP_SET_CONTAINER takes by pointer. */
  static Memory containerFd(int fd) {
    Memory arg = zeroed(Integer.BYTES);
    arg.setInt(0, fd);
    return arg;
  }

  /** The NUL-terminated device name GROUP_GET_DEVICE_FD takes: a PCI address or mdev UUID. */
  static Memory deviceName(String name) {
    byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
    Memory arg = zeroed(bytes.length + 1);
    arg.write(0, bytes, 0, bytes.length);
    return arg;
  }

  /** {@code struct vfio_device_info} for DEVICE_GET_INFO. */
  static Memory deviceInfo() {
    Memory info = zeroed(DEVICE_INFO_SIZE);
    info.setInt(DEVICE_INFO_ARGSZ, DEVICE_INFO_SIZE);
    return info;
  }

  static DeviceInfo deviceInfo(Memory info) {
    int flags = info.getInt(DEVICE_INFO_FLAGS);
    return new DeviceInfo(
        (flags & DEVICE_FLAGS_RESET) != 0,
        (flags & DEVICE_FLAGS_PCI) != 0,
        Integer.toUnsignedLong(info.getInt(DEVICE_INFO_NUM_REGIONS)),
        Integer.toUnsignedLong(info.getInt(DEVICE_INFO_NUM_IRQS)));
  }

  /** DEVICE_FEATURE GET of MIGRATION, room for its {@code u64 flags}. */
  static Memory getMigrationFlags() {
    return feature(FEATURE_GET | FEATURE_MIGRATION, MIGRATION_SIZE);
  }

  static long migrationFlags(Memory feature) {
    return feature.getLong(FEATURE_DATA + MIGRATION_FLAGS);
  }

  /** DEVICE_FEATURE GET of MIG_DEVICE_STATE. */
  static Memory getMigState() {
    return feature(FEATURE_GET | FEATURE_MIG_DEVICE_STATE, MIG_STATE_SIZE);
  }

  /**
   * DEVICE_FEATURE SET of MIG_DEVICE_STATE to {@code state}, data_fd -1 until the kernel sets it.
   */
  static Memory setMigState(MigrationState state) {
    Memory feature = feature(FEATURE_SET | FEATURE_MIG_DEVICE_STATE, MIG_STATE_SIZE);
    feature.setInt(FEATURE_DATA + MIG_STATE_DEVICE_STATE, state.value());
    feature.setInt(FEATURE_DATA + MIG_STATE_DATA_FD, -1);
    return feature;
  }

  static int migState(Memory feature) {
    return feature.getInt(FEATURE_DATA + MIG_STATE_DEVICE_STATE);
  }

  /** The fd a SET of MIG_DEVICE_STATE returned; -1 when the final arc opened no session. */
  static int migDataFd(Memory feature) {
    return feature.getInt(FEATURE_DATA + MIG_STATE_DATA_FD);
  }

  /** DEVICE_FEATURE GET of MIG_DATA_SIZE. */
  static Memory getMigDataSize() {
    return feature(FEATURE_GET | FEATURE_MIG_DATA_SIZE, MIG_DATA_SIZE_SIZE);
  }

  static long stopCopyLength(Memory feature) {
    return feature.getLong(FEATURE_DATA + MIG_DATA_SIZE_STOP_COPY_LENGTH);
  }

  /** {@code struct vfio_precopy_info} for MIG_GET_PRECOPY_INFO on a data_fd. */
  static Memory precopyInfo() {
    Memory info = zeroed(PRECOPY_INFO_SIZE);
    info.setInt(PRECOPY_INFO_ARGSZ, PRECOPY_INFO_SIZE);
    return info;
  }

  /**
   * The answer of MIG_GET_PRECOPY_INFO. {@link PrecopyInfo#reinit} is the flag bit as the kernel
   * left it, meaningful only under precopy info v2 (see {@link #FEATURE_MIG_PRECOPY_INFO_V2}).
   */
  static PrecopyInfo precopyInfo(Memory info) {
    return new PrecopyInfo(
        info.getLong(PRECOPY_INFO_INITIAL_BYTES),
        info.getLong(PRECOPY_INFO_DIRTY_BYTES),
        (info.getInt(PRECOPY_INFO_FLAGS) & PRECOPY_INFO_REINIT) != 0);
  }

  /** DEVICE_FEATURE PROBE of a SET of MIG_PRECOPY_INFOv2: succeeds where the device has it. */
  static Memory probePrecopyInfoV2() {
    return feature(FEATURE_PROBE | FEATURE_SET | FEATURE_MIG_PRECOPY_INFO_V2, 0);
  }

  /** DEVICE_FEATURE SET of MIG_PRECOPY_INFOv2, the opt-in; it takes no payload. */
  static Memory setPrecopyInfoV2() {
    return feature(FEATURE_SET | FEATURE_MIG_PRECOPY_INFO_V2, 0);
  }

  /**
   * {@code struct vfio_region_info} of region {@code index}, {@code argsz} long: the struct alone
   * first; the kernel then says in argsz how much room its capabilities need.
   */
  static Memory regionInfo(int index, int argsz) {
    Memory info = zeroed(Math.max(argsz, REGION_INFO_SIZE));
    info.setInt(REGION_INFO_ARGSZ, (int) info.size());
    info.setInt(REGION_INFO_INDEX, index);
    return info;
  }

  /**
   * How many bytes the region's info with its capabilities takes, when that is more than the buffer
   * {@code info} offered; 0 when everything fit or the region has no capabilities.
   */
  static int regionInfoRoomNeeded(Memory info) {
    int needed = info.getInt(REGION_INFO_ARGSZ);
    boolean caps = (info.getInt(REGION_INFO_FLAGS) & REGION_INFO_FLAG_CAPS) != 0;
    return caps && needed > info.size() && needed <= REGION_INFO_MAX_ARGSZ ? needed : 0;
  }

  /**
   * The type capability ({@code VFIO_REGION_INFO_CAP_TYPE}) in the capability chain of a filled
   * region info, if it has one. A chain that points outside the buffer or backwards (which would
   * loop) ends the walk: what was read until then is kept.
   */
  static Optional<RegionType> regionType(Memory info) {
    if ((info.getInt(REGION_INFO_FLAGS) & REGION_INFO_FLAG_CAPS) == 0) {
      return Optional.empty();
    }
    long filled = Math.min(info.size(), Integer.toUnsignedLong(info.getInt(REGION_INFO_ARGSZ)));
    long at = Integer.toUnsignedLong(info.getInt(REGION_INFO_CAP_OFFSET));
    long previous = 0;
    while (at >= REGION_INFO_SIZE && at > previous && at + INFO_CAP_HEADER_SIZE <= filled) {
      int id = Short.toUnsignedInt(info.getShort(at + INFO_CAP_ID));
      if (id == REGION_INFO_CAP_TYPE && at + CAP_TYPE_SIZE <= filled) {
        return Optional.of(
            new RegionType(
                Integer.toUnsignedLong(info.getInt(at + CAP_TYPE_TYPE)),
                Integer.toUnsignedLong(info.getInt(at + CAP_TYPE_SUBTYPE))));
      }
      previous = at;
      at = Integer.toUnsignedLong(info.getInt(at + INFO_CAP_NEXT));
    }
    return Optional.empty();
  }

  /** {@code struct vfio_device_bind_iommufd} binding a cdev fd to {@code iommufd}. */
  static Memory bindIommufd(int iommufd) {
    Memory bind = zeroed(BIND_IOMMUFD_SIZE);
    bind.setInt(BIND_IOMMUFD_ARGSZ, BIND_IOMMUFD_SIZE);
    bind.setInt(BIND_IOMMUFD_IOMMUFD, iommufd);
    return bind;
  }

  /** {@code struct vfio_device_feature} with flags and a zeroed payload of {@code payloadBytes}. */
  private static Memory feature(int flags, int payloadBytes) {
    Memory feature = zeroed(FEATURE_HEADER_SIZE + payloadBytes);
    feature.setInt(FEATURE_ARGSZ, FEATURE_HEADER_SIZE + payloadBytes);
    feature.setInt(FEATURE_FLAGS, flags);
    return feature;
  }

  private static Memory zeroed(int bytes) {
    Memory memory = new Memory(bytes);
    memory.clear();
    return memory;
  }
}
