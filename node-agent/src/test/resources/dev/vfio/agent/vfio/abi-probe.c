/*
 * Prints the VFIO ABI as the installed kernel headers define it, one "NAME VALUE" line each,
 * for VfioAbiTest to compare with the Java side. Definitions newer than the installed headers
 * are printed only when the headers have them; the test compares the rest with the reference.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <linux/vfio.h>

#define C(x) printf("%s %lld\n", #x, (long long)(x))
#define S(t) printf("sizeof(%s) %zu\n", #t, sizeof(struct t))
#define O(t, f) printf("offsetof(%s.%s) %zu\n", #t, #f, offsetof(struct t, f))

int main(void)
{
	C(VFIO_TYPE);
	C(VFIO_BASE);
	C(VFIO_API_VERSION);
	C(VFIO_TYPE1_IOMMU);
	C(VFIO_TYPE1v2_IOMMU);
	C(VFIO_NOIOMMU_IOMMU);

	C(VFIO_GET_API_VERSION);
	C(VFIO_CHECK_EXTENSION);
	C(VFIO_SET_IOMMU);
	C(VFIO_GROUP_GET_STATUS);
	C(VFIO_GROUP_SET_CONTAINER);
	C(VFIO_GROUP_UNSET_CONTAINER);
	C(VFIO_GROUP_GET_DEVICE_FD);
	C(VFIO_DEVICE_GET_INFO);
	C(VFIO_DEVICE_GET_REGION_INFO);
	C(VFIO_DEVICE_RESET);
	C(VFIO_DEVICE_FEATURE);

	C(VFIO_GROUP_FLAGS_VIABLE);
	C(VFIO_GROUP_FLAGS_CONTAINER_SET);
	C(VFIO_DEVICE_FLAGS_RESET);
	C(VFIO_DEVICE_FLAGS_PCI);

	C(VFIO_DEVICE_FEATURE_MASK);
	C(VFIO_DEVICE_FEATURE_GET);
	C(VFIO_DEVICE_FEATURE_SET);
	C(VFIO_DEVICE_FEATURE_PROBE);
	C(VFIO_DEVICE_FEATURE_MIGRATION);
	C(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE);

	C(VFIO_MIGRATION_STOP_COPY);
	C(VFIO_MIGRATION_P2P);
	C(VFIO_DEVICE_STATE_ERROR);
	C(VFIO_DEVICE_STATE_STOP);
	C(VFIO_DEVICE_STATE_RUNNING);
	C(VFIO_DEVICE_STATE_STOP_COPY);
	C(VFIO_DEVICE_STATE_RESUMING);
	C(VFIO_DEVICE_STATE_RUNNING_P2P);

	S(vfio_group_status);
	O(vfio_group_status, argsz);
	O(vfio_group_status, flags);
	/* The size differs between header versions (a trailing pad); the test looks at it apart. */
	S(vfio_device_info);
	O(vfio_device_info, argsz);
	O(vfio_device_info, flags);
	O(vfio_device_info, num_regions);
	O(vfio_device_info, num_irqs);
	O(vfio_device_info, cap_offset);
	S(vfio_region_info);
	O(vfio_region_info, argsz);
	O(vfio_region_info, flags);
	O(vfio_region_info, index);
	O(vfio_region_info, cap_offset);
	O(vfio_region_info, size);
	O(vfio_region_info, offset);
	C(VFIO_REGION_INFO_FLAG_CAPS);
	S(vfio_info_cap_header);
	O(vfio_info_cap_header, id);
	O(vfio_info_cap_header, version);
	O(vfio_info_cap_header, next);
	C(VFIO_REGION_INFO_CAP_TYPE);
	S(vfio_region_info_cap_type);
	O(vfio_region_info_cap_type, type);
	O(vfio_region_info_cap_type, subtype);
#ifdef VFIO_REGION_TYPE_MIGRATION_DEPRECATED
	C(VFIO_REGION_TYPE_MIGRATION_DEPRECATED);
	C(VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED);
#endif
	S(vfio_device_feature);
	O(vfio_device_feature, argsz);
	O(vfio_device_feature, flags);
	O(vfio_device_feature, data);
	S(vfio_device_feature_migration);
	O(vfio_device_feature_migration, flags);
	S(vfio_device_feature_mig_state);
	O(vfio_device_feature_mig_state, device_state);
	O(vfio_device_feature_mig_state, data_fd);

#ifdef VFIO_MIGRATION_PRE_COPY
	C(VFIO_MIGRATION_PRE_COPY);
	C(VFIO_DEVICE_STATE_PRE_COPY);
	C(VFIO_DEVICE_STATE_PRE_COPY_P2P);
#endif
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
	C(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE);
	S(vfio_device_feature_mig_data_size);
	O(vfio_device_feature_mig_data_size, stop_copy_length);
#endif
#ifdef VFIO_MIG_GET_PRECOPY_INFO
	C(VFIO_MIG_GET_PRECOPY_INFO);
	S(vfio_precopy_info);
	O(vfio_precopy_info, argsz);
	O(vfio_precopy_info, flags);
	O(vfio_precopy_info, initial_bytes);
	O(vfio_precopy_info, dirty_bytes);
#endif
#ifdef VFIO_PRECOPY_INFO_REINIT
	C(VFIO_PRECOPY_INFO_REINIT);
	C(VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2);
#endif
#ifdef VFIO_DEVICE_BIND_IOMMUFD
	C(VFIO_DEVICE_BIND_IOMMUFD);
	O(vfio_device_bind_iommufd, argsz);
	O(vfio_device_bind_iommufd, flags);
	O(vfio_device_bind_iommufd, iommufd);
	O(vfio_device_bind_iommufd, out_devid);
#endif

	C(O_RDWR);
	C(O_CLOEXEC);
	C(SYS_pidfd_open);
	C(SYS_pidfd_getfd);

	C(EPERM);
	C(ENOENT);
	C(ESRCH);
	C(EINTR);
	C(EIO);
	C(ENXIO);
	C(EBADF);
	C(EAGAIN);
	C(ENOMEM);
	C(EACCES);
	C(EFAULT);
	C(EBUSY);
	C(ENODEV);
	C(EINVAL);
	C(ENOSPC);
	C(ESPIPE);
	C(ENOTTY);
	C(ENOMSG);
	C(ENOSYS);
	return 0;
}
