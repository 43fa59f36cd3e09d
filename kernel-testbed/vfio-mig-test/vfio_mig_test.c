// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio_mig_test - a software-only mediated VFIO device with migration v2.
 *
 * Written for the vfio-operator kernel test bed. It gives the node agent a
 * real kernel VFIO device to drive through the group/container uAPI without
 * any hardware:
 *
 *   - an mdev parent at /sys/devices/virtual/vfio_mig_test/vfio_mig_test with
 *     two types: "vfio_mig_test-mem", the migratable device, and
 *     "vfio_mig_test-plain", the same device without migration support (the
 *     migration features answer ENOTTY), so that tests can see how a tool
 *     treats a VFIO device that cannot migrate; echo a UUID into a type's
 *     "create" file;
 *   - each device is an emulated-IOMMU vfio device that looks like a PCI
 *     function: BAR0 (region 0) is "device memory" of mem_size_mb MiB, and
 *     region 7 is a fixed 256-byte config space; both are accessed with
 *     pread/pwrite on the device fd at index << 40;
 *   - migration v2 with STOP_COPY and P2P. The device memory is the device's
 *     internal state. STOP -> STOP_COPY snapshots it into a stream
 *
 *         struct vmt_stream_header (32 bytes, little-endian)
 *         device memory (length bytes)
 *
 *     and RESUMING accepts such a stream, checked and loaded when the device
 *     leaves RESUMING. A bad stream fails that arc and leaves the device in
 *     ERROR, from which only VFIO_DEVICE_RESET (back to RUNNING) recovers.
 *
 * Device memory is writable only in RUNNING and RUNNING_P2P (EBUSY otherwise),
 * so a test can see that a stopped device really does not change. A reset
 * zeroes it, as a power-on would.
 *
 * Built against Linux 6.1 (Debian bookworm). The 6.1 vfio core only validates
 * a requested state; the driver walks combination arcs itself with
 * vfio_mig_get_next_state(). 6.1 has no get_data_size (MIG_DATA_SIZE) and no
 * PRE_COPY.
 */

#include <linux/anon_inodes.h>
#include <linux/crc32.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vmalloc.h>

#define VMT_NAME		"vfio_mig_test"

/* Same region offset convention as vfio-pci and the mdev samples. */
#define VMT_OFFSET_SHIFT	40
#define VMT_INDEX_TO_OFFSET(i)	((u64)(i) << VMT_OFFSET_SHIFT)
#define VMT_OFFSET_TO_INDEX(o)	((o) >> VMT_OFFSET_SHIFT)
#define VMT_OFFSET_MASK		((1ULL << VMT_OFFSET_SHIFT) - 1)

#define VMT_CONFIG_SIZE		256

/* "VMTSTRM1" read as a little-endian u64. */
#define VMT_STREAM_MAGIC	0x314d525453544d56ULL
#define VMT_STREAM_VERSION	1

/*
 * The migration stream header. checksum is the standard CRC-32 (IEEE 802.3,
 * as zlib and java.util.zip.CRC32 compute it) of the length bytes of device
 * memory that follow the header.
 */
struct vmt_stream_header {
	__le64 magic;
	__le32 version;
	__le32 header_size;	/* sizeof(struct vmt_stream_header) */
	__le64 length;		/* bytes of device memory that follow */
	__le32 checksum;
	__le32 flags;		/* 0 */
};

static unsigned int mem_size_mb = 16;
module_param(mem_size_mb, uint, 0444);
MODULE_PARM_DESC(mem_size_mb, "Size of each device's BAR0 memory in MiB (default 16)");

static unsigned int max_devices = 4;
module_param(max_devices, uint, 0444);
MODULE_PARM_DESC(max_devices, "How many devices the mdev type offers (default 4)");

struct vmt_device;

/* One data transfer session: the fd returned by STOP_COPY or RESUMING. */
struct vmt_migf {
	struct file *filp;
	struct mutex lock;	/* protects everything below */
	u8 *buf;		/* the whole stream: header + memory */
	size_t size;		/* stream length (save) or capacity (resume) */
	size_t pos;		/* bytes read (save) or written (resume) */
	bool overflow;		/* resume: the user wrote more than a stream holds */
	bool disabled;		/* session ended: read/write give ENODEV */
};

struct vmt_device {
	struct vfio_device vdev;
	/*
	 * state_mutex orders: it is taken before any migf->lock, and it guards
	 * the FSM state, the device memory and the session pointers.
	 */
	struct mutex state_mutex;
	enum vfio_device_mig_state state;
	u8 *mem;
	size_t mem_size;
	u8 config[VMT_CONFIG_SIZE];
	struct vmt_migf *saving;	/* holds a file reference */
	struct vmt_migf *resuming;	/* holds a file reference */
	bool v1;		/* of the v1 type: a v1 migration region, no v2 */
};

/*
 * Every state change of every device gets the next number of this counter and
 * a line in the kernel log, "vmt-arc SEQ FROM -> TO" under the device's name,
 * so that a test can read the order across devices, which per-device state
 * alone cannot show (the kernel test bed checks the P2P ordering this way).
 */
static atomic64_t vmt_seq = ATOMIC64_INIT(0);

static const char *const vmt_state_names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
};

static const char *vmt_state_name(enum vfio_device_mig_state state)
{
	return state < ARRAY_SIZE(vmt_state_names) && vmt_state_names[state] ?
		vmt_state_names[state] : "?";
}

static struct device vmt_parent_dev;
static struct class *vmt_class;
static struct mdev_parent vmt_parent;

static struct vmt_device *to_vmt(struct vfio_device *vdev)
{
	return container_of(vdev, struct vmt_device, vdev);
}

/* Sets the FSM state and logs a change; called with state_mutex held. */
static void vmt_enter(struct vmt_device *vmt, enum vfio_device_mig_state next)
{
	lockdep_assert_held(&vmt->state_mutex);
	if (vmt->state != next)
		dev_info(vmt->vdev.dev, "vmt-arc %lld %s -> %s\n",
			 atomic64_inc_return(&vmt_seq),
			 vmt_state_name(vmt->state), vmt_state_name(next));
	vmt->state = next;
}

/* Migration data fds */

static void vmt_migf_disable(struct vmt_migf *migf)
{
	mutex_lock(&migf->lock);
	migf->disabled = true;
	vfree(migf->buf);
	migf->buf = NULL;
	migf->size = 0;
	migf->pos = 0;
	mutex_unlock(&migf->lock);
}

static int vmt_migf_release(struct inode *inode, struct file *filp)
{
	struct vmt_migf *migf = filp->private_data;

	vmt_migf_disable(migf);
	mutex_destroy(&migf->lock);
	kfree(migf);
	return 0;
}

static ssize_t vmt_save_read(struct file *filp, char __user *ubuf, size_t len,
			     loff_t *ppos)
{
	struct vmt_migf *migf = filp->private_data;
	ssize_t done;

	/* A stream: the vfs hands us no position; pread gets ESPIPE before here. */
	if (ppos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		done = -ENODEV;
		goto out;
	}
	done = min_t(size_t, len, migf->size - migf->pos);
	if (done && copy_to_user(ubuf, migf->buf + migf->pos, done)) {
		done = -EFAULT;
		goto out;
	}
	migf->pos += done;
out:
	mutex_unlock(&migf->lock);
	return done;
}

static ssize_t vmt_resume_write(struct file *filp, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct vmt_migf *migf = filp->private_data;
	ssize_t done;

	if (ppos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		done = -ENODEV;
		goto out;
	}
	if (len > migf->size - migf->pos) {
		/* Longer than any stream this device produces: remember it. */
		migf->overflow = true;
		done = -ENOSPC;
		goto out;
	}
	if (copy_from_user(migf->buf + migf->pos, ubuf, len)) {
		done = -EFAULT;
		goto out;
	}
	migf->pos += len;
	done = len;
out:
	mutex_unlock(&migf->lock);
	return done;
}

static const struct file_operations vmt_save_fops = {
	.owner = THIS_MODULE,
	.read = vmt_save_read,
	.release = vmt_migf_release,
	.llseek = no_llseek,
};

static const struct file_operations vmt_resume_fops = {
	.owner = THIS_MODULE,
	.write = vmt_resume_write,
	.release = vmt_migf_release,
	.llseek = no_llseek,
};

static struct vmt_migf *vmt_migf_create(struct vmt_device *vmt,
					const struct file_operations *fops,
					int flags)
{
	struct vmt_migf *migf;
	int ret;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	migf->size = sizeof(struct vmt_stream_header) + vmt->mem_size;
	migf->buf = vmalloc(migf->size);
	if (!migf->buf) {
		ret = -ENOMEM;
		goto err_free;
	}
	migf->filp = anon_inode_getfile("vfio_mig_test_mig", fops, migf, flags);
	if (IS_ERR(migf->filp)) {
		ret = PTR_ERR(migf->filp);
		goto err_free;
	}
	stream_open(migf->filp->f_inode, migf->filp);
	return migf;

err_free:
	vfree(migf->buf);
	mutex_destroy(&migf->lock);
	kfree(migf);
	return ERR_PTR(ret);
}

/* Ends the sessions the device still tracks; the user's fds then see ENODEV. */
static void vmt_end_sessions(struct vmt_device *vmt)
{
	lockdep_assert_held(&vmt->state_mutex);
	if (vmt->saving) {
		vmt_migf_disable(vmt->saving);
		fput(vmt->saving->filp);
		vmt->saving = NULL;
	}
	if (vmt->resuming) {
		vmt_migf_disable(vmt->resuming);
		fput(vmt->resuming->filp);
		vmt->resuming = NULL;
	}
}

static struct file *vmt_start_save(struct vmt_device *vmt)
{
	struct vmt_stream_header *hdr;
	struct vmt_migf *migf;

	migf = vmt_migf_create(vmt, &vmt_save_fops, O_RDONLY);
	if (IS_ERR(migf))
		return ERR_CAST(migf);

	/* The device is stopped: a copy now is the state at this instant. */
	hdr = (struct vmt_stream_header *)migf->buf;
	memcpy(migf->buf + sizeof(*hdr), vmt->mem, vmt->mem_size);
	hdr->magic = cpu_to_le64(VMT_STREAM_MAGIC);
	hdr->version = cpu_to_le32(VMT_STREAM_VERSION);
	hdr->header_size = cpu_to_le32(sizeof(*hdr));
	hdr->length = cpu_to_le64(vmt->mem_size);
	hdr->checksum = cpu_to_le32(crc32_le(~0U, vmt->mem, vmt->mem_size) ^ ~0U);
	hdr->flags = 0;

	get_file(migf->filp);
	vmt->saving = migf;
	return migf->filp;
}

static struct file *vmt_start_resume(struct vmt_device *vmt)
{
	struct vmt_migf *migf;

	migf = vmt_migf_create(vmt, &vmt_resume_fops, O_WRONLY);
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	get_file(migf->filp);
	vmt->resuming = migf;
	return migf->filp;
}

/* Checks the resumed stream and loads it into device memory. */
static int vmt_load(struct vmt_device *vmt, struct vmt_migf *migf)
{
	struct device *dev = vmt->vdev.dev;
	struct vmt_stream_header hdr;
	const u8 *payload;
	u32 crc;
	int ret = -EINVAL;

	mutex_lock(&migf->lock);
	if (migf->overflow) {
		dev_warn(dev, "resume: more data than one stream holds\n");
		goto out;
	}
	if (migf->pos < sizeof(hdr)) {
		dev_warn(dev, "resume: %zu bytes, shorter than the header\n",
			 migf->pos);
		goto out;
	}
	memcpy(&hdr, migf->buf, sizeof(hdr));
	if (le64_to_cpu(hdr.magic) != VMT_STREAM_MAGIC ||
	    le32_to_cpu(hdr.version) != VMT_STREAM_VERSION ||
	    le32_to_cpu(hdr.header_size) != sizeof(hdr) || hdr.flags) {
		dev_warn(dev, "resume: bad header\n");
		goto out;
	}
	if (le64_to_cpu(hdr.length) != vmt->mem_size ||
	    migf->pos != sizeof(hdr) + vmt->mem_size) {
		dev_warn(dev, "resume: length %llu, %zu bytes written, device has %zu\n",
			 le64_to_cpu(hdr.length), migf->pos, vmt->mem_size);
		goto out;
	}
	payload = migf->buf + sizeof(hdr);
	crc = crc32_le(~0U, payload, vmt->mem_size) ^ ~0U;
	if (crc != le32_to_cpu(hdr.checksum)) {
		dev_warn(dev, "resume: checksum %08x, stream says %08x\n",
			 crc, le32_to_cpu(hdr.checksum));
		goto out;
	}
	memcpy(vmt->mem, payload, vmt->mem_size);
	ret = 0;
out:
	mutex_unlock(&migf->lock);
	return ret;
}

/* Performs one arc of the FSM. Sets state itself only when it fails to ERROR. */
static struct file *vmt_step(struct vmt_device *vmt,
			     enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = vmt->state;

	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_STOP_COPY)
		return vmt_start_save(vmt);

	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_RESUMING)
		return vmt_start_resume(vmt);

	if (cur == VFIO_DEVICE_STATE_STOP_COPY && next == VFIO_DEVICE_STATE_STOP) {
		vmt_end_sessions(vmt);
		return NULL;
	}

	if (cur == VFIO_DEVICE_STATE_RESUMING && next == VFIO_DEVICE_STATE_STOP) {
		int ret = vmt_load(vmt, vmt->resuming);

		vmt_end_sessions(vmt);
		if (ret) {
			/* The old memory may not match what the user meant to load. */
			vmt_enter(vmt, VFIO_DEVICE_STATE_ERROR);
			return ERR_PTR(ret);
		}
		return NULL;
	}

	/* Nothing to quiesce: the device does no DMA, P2P or otherwise. */
	if ((cur == VFIO_DEVICE_STATE_RUNNING && next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P && next == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P && next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_RUNNING_P2P))
		return NULL;

	/* vfio_mig_get_next_state() never hands out any other arc. */
	WARN_ON(true);
	return ERR_PTR(-EINVAL);
}

static struct file *vmt_set_state(struct vfio_device *vdev,
				  enum vfio_device_mig_state new_state)
{
	struct vmt_device *vmt = to_vmt(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&vmt->state_mutex);
	/*
	 * Only a reset leaves ERROR. vfio_mig_get_next_state() would say so
	 * too, but with a WARN, since ERROR is no state a driver walks from.
	 */
	if (vmt->state == VFIO_DEVICE_STATE_ERROR)
		res = ERR_PTR(-EINVAL);
	while (!IS_ERR(res) && vmt->state != new_state) {
		ret = vfio_mig_get_next_state(vdev, vmt->state, new_state, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = vmt_step(vmt, next);
		if (IS_ERR(res))
			break;
		vmt_enter(vmt, next);
		/* Only the last arc of a request may open a session. */
		if (WARN_ON(res && next != new_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&vmt->state_mutex);
	return res;
}

static int vmt_get_state(struct vfio_device *vdev,
			 enum vfio_device_mig_state *state)
{
	struct vmt_device *vmt = to_vmt(vdev);

	mutex_lock(&vmt->state_mutex);
	*state = vmt->state;
	mutex_unlock(&vmt->state_mutex);
	return 0;
}

static const struct vfio_migration_ops vmt_mig_ops = {
	.migration_set_state = vmt_set_state,
	.migration_get_state = vmt_get_state,
};

/* Region access */

static bool vmt_running(struct vmt_device *vmt)
{
	return vmt->state == VFIO_DEVICE_STATE_RUNNING ||
	       vmt->state == VFIO_DEVICE_STATE_RUNNING_P2P;
}

static ssize_t vmt_rw(struct vfio_device *vdev, char __user *ubuf, size_t count,
		      loff_t *ppos, bool write)
{
	struct vmt_device *vmt = to_vmt(vdev);
	u64 index = VMT_OFFSET_TO_INDEX((u64)*ppos);
	u64 off = (u64)*ppos & VMT_OFFSET_MASK;
	ssize_t ret;
	size_t size;
	u8 *base;

	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		base = vmt->mem;
		size = vmt->mem_size;
		break;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		base = vmt->config;
		size = VMT_CONFIG_SIZE;
		break;
	default:
		return -EINVAL;
	}
	if (off >= size)
		return -EINVAL;
	count = min_t(size_t, count, size - off);

	mutex_lock(&vmt->state_mutex);
	if (write) {
		if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
			/* Config space is fixed: writes are accepted and dropped. */
			ret = count;
		} else if (!vmt_running(vmt)) {
			ret = -EBUSY;
		} else if (copy_from_user(base + off, ubuf, count)) {
			ret = -EFAULT;
		} else {
			ret = count;
		}
	} else {
		ret = copy_to_user(ubuf, base + off, count) ? -EFAULT : count;
	}
	mutex_unlock(&vmt->state_mutex);
	if (ret > 0)
		*ppos += ret;
	return ret;
}

static ssize_t vmt_read(struct vfio_device *vdev, char __user *ubuf,
			size_t count, loff_t *ppos)
{
	return vmt_rw(vdev, ubuf, count, ppos, false);
}

static ssize_t vmt_write(struct vfio_device *vdev, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	return vmt_rw(vdev, (char __user *)ubuf, count, ppos, true);
}

/* Device ioctls */

static void vmt_reset(struct vmt_device *vmt)
{
	mutex_lock(&vmt->state_mutex);
	vmt_end_sessions(vmt);
	memset(vmt->mem, 0, vmt->mem_size);
	vmt_enter(vmt, VFIO_DEVICE_STATE_RUNNING);
	mutex_unlock(&vmt->state_mutex);
}

/*
 * The v1 type's extra region, as drivers of the v1 protocol (before 5.18)
 * described their migration region: a type capability (3, 1) in the chain.
 * Only its info exists; the region itself cannot be read or written, since
 * nothing here speaks the v1 protocol: devices of this type exist so that the
 * agent's detection of v1 devices runs against a real kernel. The capability
 * is reported as the kernel's own regions do: when argsz leaves no room for
 * it, the CAPS flag and the argsz needed, and cap_offset 0.
 */
static long vmt_v1_region_info(void __user *uarg, struct vfio_region_info *info)
{
	struct vfio_region_info_cap_type cap = {
		.header.id = VFIO_REGION_INFO_CAP_TYPE,
		.header.version = 1,
		.header.next = 0,
		.type = VFIO_REGION_TYPE_MIGRATION_DEPRECATED,
		.subtype = VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED,
	};
	u32 needed = sizeof(*info) + sizeof(cap);

	info->offset = VMT_INDEX_TO_OFFSET(info->index);
	info->size = PAGE_SIZE;
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_CAPS;
	if (info->argsz < needed) {
		info->argsz = needed;
		info->cap_offset = 0;
	} else {
		info->cap_offset = sizeof(*info);
		if (copy_to_user(uarg + sizeof(*info), &cap, sizeof(cap)))
			return -EFAULT;
	}
	return copy_to_user(uarg, info, sizeof(*info)) ? -EFAULT : 0;
}

static long vmt_ioctl(struct vfio_device *vdev, unsigned int cmd,
		      unsigned long arg)
{
	struct vmt_device *vmt = to_vmt(vdev);
	void __user *uarg = (void __user *)arg;
	unsigned long minsz;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS + (vmt->v1 ? 1 : 0);
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info info;

		minsz = offsetofend(struct vfio_region_info, offset);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		if (vmt->v1 && info.index == VFIO_PCI_NUM_REGIONS)
			return vmt_v1_region_info(uarg, &info);
		if (info.index >= VFIO_PCI_NUM_REGIONS)
			return -EINVAL;
		info.cap_offset = 0;
		info.offset = VMT_INDEX_TO_OFFSET(info.index);
		switch (info.index) {
		case VFIO_PCI_BAR0_REGION_INDEX:
			info.size = vmt->mem_size;
			info.flags = VFIO_REGION_INFO_FLAG_READ |
				     VFIO_REGION_INFO_FLAG_WRITE;
			break;
		case VFIO_PCI_CONFIG_REGION_INDEX:
			info.size = VMT_CONFIG_SIZE;
			info.flags = VFIO_REGION_INFO_FLAG_READ |
				     VFIO_REGION_INFO_FLAG_WRITE;
			break;
		default:
			info.size = 0;
			info.flags = 0;
		}
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;

		minsz = offsetofend(struct vfio_irq_info, count);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
			return -EINVAL;
		/* The device raises no interrupts. */
		info.flags = 0;
		info.count = 0;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_RESET:
		vmt_reset(vmt);
		return 0;
	}
	return -ENOTTY;
}

/* vfio_device lifecycle */

static void vmt_fill_config(u8 *cfg)
{
	/* Vendor 0x1b36 (QEMU's), device 0x10f7; class 0x05 0x80 (other memory). */
	memset(cfg, 0, VMT_CONFIG_SIZE);
	cfg[0x00] = 0x36;
	cfg[0x01] = 0x1b;
	cfg[0x02] = 0xf7;
	cfg[0x03] = 0x10;
	cfg[0x08] = 0x01;	/* revision */
	cfg[0x0a] = 0x80;	/* subclass */
	cfg[0x0b] = 0x05;	/* class: memory controller */
	cfg[0x10] = 0x08;	/* BAR0: 32-bit prefetchable memory */
}

static struct mdev_type vmt_type, vmt_plain_type, vmt_v1_type;

static int vmt_init_dev(struct vfio_device *vdev)
{
	struct vmt_device *vmt = to_vmt(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);

	vmt->mem_size = (size_t)mem_size_mb << 20;
	vmt->mem = vzalloc(vmt->mem_size);
	if (!vmt->mem)
		return -ENOMEM;
	mutex_init(&vmt->state_mutex);
	vmt->state = VFIO_DEVICE_STATE_RUNNING;
	vmt_fill_config(vmt->config);
	vmt->v1 = mdev->type == &vmt_v1_type;
	/* Without mig_ops the vfio core answers ENOTTY to every migration feature. */
	if (mdev->type == &vmt_type) {
		vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
		vdev->mig_ops = &vmt_mig_ops;
	}
	return 0;
}

static void vmt_release_dev(struct vfio_device *vdev)
{
	struct vmt_device *vmt = to_vmt(vdev);

	vfree(vmt->mem);
	mutex_destroy(&vmt->state_mutex);
	/* 6.1: every driver's release must free the vfio_device itself. */
	vfio_free_device(vdev);
}

static void vmt_close_device(struct vfio_device *vdev)
{
	struct vmt_device *vmt = to_vmt(vdev);

	/*
	 * The migration state belongs to the open device: the last close ends
	 * any session and the next open starts in RUNNING. Memory is kept.
	 */
	mutex_lock(&vmt->state_mutex);
	vmt_end_sessions(vmt);
	vmt_enter(vmt, VFIO_DEVICE_STATE_RUNNING);
	mutex_unlock(&vmt->state_mutex);
}

static const struct vfio_device_ops vmt_dev_ops = {
	.name = VMT_NAME,
	.init = vmt_init_dev,
	.release = vmt_release_dev,
	.close_device = vmt_close_device,
	.read = vmt_read,
	.write = vmt_write,
	.ioctl = vmt_ioctl,
};

/* mdev glue */

static int vmt_probe(struct mdev_device *mdev)
{
	struct vmt_device *vmt;
	int ret;

	vmt = vfio_alloc_device(vmt_device, vdev, &mdev->dev, &vmt_dev_ops);
	if (IS_ERR(vmt))
		return PTR_ERR(vmt);
	ret = vfio_register_emulated_iommu_dev(&vmt->vdev);
	if (ret) {
		vfio_put_device(&vmt->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, vmt);
	return 0;
}

static void vmt_remove(struct mdev_device *mdev)
{
	struct vmt_device *vmt = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&vmt->vdev);
	vfio_put_device(&vmt->vdev);
}

static ssize_t vmt_show_description(struct mdev_type *mtype, char *buf)
{
	return sysfs_emit(buf, "%s test device, BAR0 %u MiB\n",
			  mtype == &vmt_type ? "migratable" :
			  mtype == &vmt_v1_type ? "v1-migration-region" : "non-migratable",
			  mem_size_mb);
}

static struct mdev_driver vmt_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = VMT_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = vmt_probe,
	.remove = vmt_remove,
	.show_description = vmt_show_description,
};

static struct mdev_type vmt_type = {
	.sysfs_name = "mem",
	.pretty_name = "vfio_mig_test memory device",
};

static struct mdev_type vmt_plain_type = {
	.sysfs_name = "plain",
	.pretty_name = "vfio_mig_test memory device without migration",
};

static struct mdev_type vmt_v1_type = {
	.sysfs_name = "v1",
	.pretty_name = "vfio_mig_test memory device with a v1 migration region",
};

static struct mdev_type *vmt_types[] = { &vmt_type, &vmt_plain_type, &vmt_v1_type };

static void vmt_parent_release(struct device *dev)
{
	/* Static device: nothing to free. */
}

static int __init vmt_init(void)
{
	int ret;

	if (!mem_size_mb || mem_size_mb > 1024) {
		pr_err(VMT_NAME ": mem_size_mb must be 1..1024\n");
		return -EINVAL;
	}
	vmt_driver.max_instances = max_devices;

	ret = mdev_register_driver(&vmt_driver);
	if (ret)
		return ret;

	vmt_class = class_create(THIS_MODULE, VMT_NAME);
	if (IS_ERR(vmt_class)) {
		ret = PTR_ERR(vmt_class);
		goto err_driver;
	}

	vmt_parent_dev.class = vmt_class;
	vmt_parent_dev.release = vmt_parent_release;
	dev_set_name(&vmt_parent_dev, "%s", VMT_NAME);
	ret = device_register(&vmt_parent_dev);
	if (ret)
		goto err_put;

	ret = mdev_register_parent(&vmt_parent, &vmt_parent_dev, &vmt_driver,
				   vmt_types, ARRAY_SIZE(vmt_types));
	if (ret)
		goto err_device;
	return 0;

err_device:
	device_del(&vmt_parent_dev);
err_put:
	put_device(&vmt_parent_dev);
	class_destroy(vmt_class);
err_driver:
	mdev_unregister_driver(&vmt_driver);
	return ret;
}

static void __exit vmt_exit(void)
{
	mdev_unregister_parent(&vmt_parent);
	device_unregister(&vmt_parent_dev);
	class_destroy(vmt_class);
	mdev_unregister_driver(&vmt_driver);
}

module_init(vmt_init);
module_exit(vmt_exit);

MODULE_LICENSE("GPL v2");
MODULE_DESCRIPTION("Software mdev VFIO device with migration v2, for testing");
