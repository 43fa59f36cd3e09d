// SPDX-License-Identifier: GPL-2.0-only
/*
 * migtest - drives vfio_mig_test through the real VFIO uAPI (group,
 * container, type1 IOMMU, device fd, VFIO_DEVICE_FEATURE migration v2) and
 * prints one PASS or FAIL line per check, then "N passed, N failed".
 *
 * Usage: migtest [UUID [SAVE_FILE]]
 * Runs inside the test bed guest (statically linked, no libc there).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TYPE_DIR "/sys/devices/virtual/vfio_mig_test/vfio_mig_test/mdev_supported_types/vfio_mig_test-mem"
#define BAR0_INDEX VFIO_PCI_BAR0_REGION_INDEX
#define HDR_SIZE 32
#define MAGIC 0x314d525453544d56ULL	/* "VMTSTRM1" */
/* Not in the 6.1 uapi header. */
#define FEATURE_MIG_DATA_SIZE 9
#define STATE_PRE_COPY 6

static int passed, failed;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf(ok ? "PASS " : "FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static void fatal(const char *what)
{
	check(0, "%s: %s", what, strerror(errno));
	printf("%d passed, %d failed\n", passed, failed);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *state_name(uint32_t s)
{
	static const char *names[] = { "ERROR", "STOP", "RUNNING", "STOP_COPY",
				       "RESUMING", "RUNNING_P2P", "PRE_COPY",
				       "PRE_COPY_P2P" };
	return s < 8 ? names[s] : "?";
}

/* VFIO_DEVICE_FEATURE with an 8-byte payload. Returns 0 or -errno. */
static int feature(int dev, uint32_t flags, void *payload, size_t len)
{
	struct {
		struct vfio_device_feature hdr;
		uint64_t data[2];
	} f;

	memset(&f, 0, sizeof(f));
	f.hdr.argsz = sizeof(f.hdr) + len;
	f.hdr.flags = flags;
	if (payload)
		memcpy(f.data, payload, len);
	if (ioctl(dev, VFIO_DEVICE_FEATURE, &f) < 0)
		return -errno;
	if (payload)
		memcpy(payload, f.data, len);
	return 0;
}

/* Requests a state; returns 0 or -errno and the data_fd (or -1) in *fd. */
static int set_state(int dev, uint32_t state, int *fd)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state, .data_fd = -1 };
	int ret = feature(dev, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			  &mig, sizeof(mig));
	if (fd)
		*fd = mig.data_fd;
	else if (mig.data_fd >= 0)
		close(mig.data_fd);
	return ret;
}

static uint32_t get_state(int dev)
{
	struct vfio_device_feature_mig_state mig = { 0 };

	if (feature(dev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		    &mig, sizeof(mig)))
		return 0xffffffff;
	return mig.device_state;
}

static int write_all(int fd, const uint8_t *buf, size_t len, size_t chunk)
{
	while (len) {
		ssize_t n = write(fd, buf, len < chunk ? len : chunk);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads a data_fd to end of stream; returns bytes read or -errno. */
static ssize_t read_to_end(int fd, uint8_t **out)
{
	size_t cap = 1 << 20, len = 0;
	uint8_t *buf = malloc(cap);

	for (;;) {
		ssize_t n;

		if (len == cap)
			buf = realloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += n;
	}
	*out = buf;
	return len;
}

static int region_rw(int dev, uint64_t off, uint8_t *buf, size_t len, int wr)
{
	while (len) {
		size_t c = len < (1 << 20) ? len : (1 << 20);
		ssize_t n = wr ? pwrite(dev, buf, c, off) : pread(dev, buf, c, off);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		off += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x;
	}
}

static uint32_t crc32_ieee(const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	uint32_t c = ~0U;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320U ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	while (len--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* What /proc/self/fd/N points to: the pod resolver matches on these names. */
static const char *fd_target(int fd, char *buf, size_t len)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, buf, len - 1);
	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

/* Whether /proc/self/fdinfo/N has a line starting with key. */
static int fdinfo_has(int fd, const char *key)
{
	char p[64], line[512];
	int found = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = fopen(p, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			found = 1;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	const char *uuid = argc > 1 ? argv[1] : "8a1c6b5e-3f0d-4c2a-9e7b-0d5f1a2b3c4d";
	const char *save_path = argc > 2 ? argv[2] : NULL;
	char path[512], link[512], grp_path[64];
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = BAR0_INDEX };
	uint8_t *pattern, *mem, *stream = NULL, *bad;
	uint64_t flags = 0, bar0, size;
	int container, group, dev, fd, ret;
	ssize_t slen, n;
	double t0;
	uint32_t st;

	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Create the mdev and find its IOMMU group. */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	if (access(path, F_OK) != 0) {
		ret = write_file(TYPE_DIR "/create", uuid);
		check(ret == 0, "create mdev %s via %s/create (%s)", uuid, TYPE_DIR,
		      strerror(-ret));
		if (ret)
			return 1;
	}
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		fatal("readlink iommu_group");
	link[n] = 0;
	snprintf(grp_path, sizeof(grp_path), "/dev/vfio/%s", basename(link));
	check(1, "mdev %s is in group %s", uuid, grp_path);

	/* Container, group, type1v2, device fd. */
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		fatal("open /dev/vfio/vfio");
	check(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "VFIO_GET_API_VERSION");
	check(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1,
	      "VFIO_CHECK_EXTENSION TYPE1v2");
	group = open(grp_path, O_RDWR);
	if (group < 0)
		fatal("open group");
	check(ioctl(group, VFIO_GROUP_GET_STATUS, &gs) == 0 && (gs.flags & VFIO_GROUP_FLAGS_VIABLE),
	      "group viable (flags %#x)", gs.flags);
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		fatal("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		fatal("VFIO_SET_IOMMU TYPE1v2");
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (dev < 0)
		fatal("VFIO_GROUP_GET_DEVICE_FD");
	check(1, "device fd %d from VFIO_GROUP_GET_DEVICE_FD(%s)", dev, uuid);
	check(!strcmp(fd_target(dev, link, sizeof(link)), "anon_inode:[vfio-device]"),
	      "device fd links to %s", link);
	check(!strcmp(fd_target(group, link, sizeof(link)), grp_path), "group fd links to %s", link);
	/* vfio-device-syspath in fdinfo came with 6.18. */
	check(!fdinfo_has(dev, "vfio-device-syspath:"), "no vfio-device-syspath in fdinfo on 6.1");

	/* Device and region info. */
	ret = ioctl(dev, VFIO_DEVICE_GET_INFO, &di);
	check(ret == 0 && (di.flags & VFIO_DEVICE_FLAGS_RESET) && (di.flags & VFIO_DEVICE_FLAGS_PCI) &&
	      di.num_regions == VFIO_PCI_NUM_REGIONS,
	      "VFIO_DEVICE_GET_INFO flags %#x regions %u irqs %u", di.flags, di.num_regions, di.num_irqs);
	ret = ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri);
	check(ret == 0 && ri.size > 0 &&
	      (ri.flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)) ==
		      (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE),
	      "BAR0 region: index %u offset %#llx size %llu flags %#x", ri.index,
	      (unsigned long long)ri.offset, (unsigned long long)ri.size, ri.flags);
	if (ret)
		fatal("GET_REGION_INFO");
	bar0 = ri.offset;
	size = ri.size;

	/* Migration capability. */
	check(feature(dev, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			   VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0) == 0,
	      "PROBE GET MIGRATION");
	check(feature(dev, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
			   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, NULL, 0) == 0,
	      "PROBE SET MIG_DEVICE_STATE");
	ret = feature(dev, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
		      &flags, sizeof(flags));
	check(ret == 0 && flags == (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P),
	      "GET MIGRATION flags %#llx == STOP_COPY|P2P", (unsigned long long)flags);
	ret = feature(dev, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			   FEATURE_MIG_DATA_SIZE, NULL, 0);
	/* 6.1.0 said EINVAL for unknown features; Debian's 6.1.1xx says ENOTTY. */
	check(ret == -ENOTTY || ret == -EINVAL, "PROBE MIG_DATA_SIZE is unsupported on 6.1 (%s)",
	      strerror(-ret));
	st = get_state(dev);
	check(st == VFIO_DEVICE_STATE_RUNNING, "initial state %s", state_name(st));

	/* Write a pattern into device memory and read it back. */
	pattern = malloc(size);
	mem = malloc(size);
	fill_pattern(pattern, size, 0x12345678);
	ret = region_rw(dev, bar0, pattern, size, 1);
	check(ret == 0, "pwrite %llu bytes to BAR0 (%s)", (unsigned long long)size, strerror(-ret));
	ret = region_rw(dev, bar0, mem, size, 0);
	check(ret == 0 && !memcmp(mem, pattern, size), "pread BAR0 returns the pattern");

	/* Save: RUNNING -> STOP_COPY in one SET (kernel walks RUNNING_P2P, STOP). */
	t0 = now_ms();
	ret = set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	check(ret == 0 && fd >= 0, "RUNNING->STOP_COPY gives data_fd %d (%s)", fd, strerror(-ret));
	if (fd < 0)
		fatal("no data_fd");
	st = get_state(dev);
	check(st == VFIO_DEVICE_STATE_STOP_COPY, "state is %s", state_name(st));
	check(!strcmp(fd_target(fd, link, sizeof(link)), "anon_inode:vfio_mig_test_mig"),
	      "data fd links to %s", link);
	check((fcntl(fd, F_GETFD) & FD_CLOEXEC) && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	      "save data fd is O_RDONLY and close-on-exec");
	ret = pwrite(dev, pattern, 16, bar0) < 0 ? -errno : 0;
	check(ret == -EBUSY, "BAR0 write in STOP_COPY gives EBUSY (%s)", strerror(-ret));
	ret = pread(fd, link, 16, 0) < 0 ? -errno : 0;
	check(ret == -ESPIPE, "pread on data_fd gives ESPIPE (%s)", strerror(-ret));
	slen = read_to_end(fd, &stream);
	check(slen == (ssize_t)(HDR_SIZE + size), "read data_fd to EOF: %zd bytes in %.0f ms",
	      slen, now_ms() - t0);
	if (slen < HDR_SIZE)
		fatal("short stream");
	{
		uint64_t magic, length;
		uint32_t version, hsize, crc;

		memcpy(&magic, stream, 8);
		memcpy(&version, stream + 8, 4);
		memcpy(&hsize, stream + 12, 4);
		memcpy(&length, stream + 16, 8);
		memcpy(&crc, stream + 24, 4);
		check(magic == MAGIC && version == 1 && hsize == HDR_SIZE && length == size &&
		      crc == crc32_ieee(stream + HDR_SIZE, size) &&
		      !memcmp(stream + HDR_SIZE, pattern, size),
		      "stream header magic %#llx version %u header %u length %llu crc32 %08x",
		      (unsigned long long)magic, version, hsize, (unsigned long long)length, crc);
	}
	n = read(fd, link, 16);
	check(n == 0, "read after EOF gives 0 again");
	if (save_path) {
		int out = open(save_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		check(out >= 0 && write_all(out, stream, slen, 1 << 20) == 0,
		      "saved stream to %s", save_path);
		if (out >= 0)
			close(out);
	}
	ret = set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	check(ret == 0 && get_state(dev) == VFIO_DEVICE_STATE_RUNNING,
	      "STOP_COPY->RUNNING (%s)", strerror(-ret));
	ret = read(fd, link, 16) < 0 ? -errno : 0;
	check(ret == -ENODEV, "read on ended save session gives ENODEV (%s)", strerror(-ret));
	close(fd);

	/* Clobber memory, then restore: RUNNING -> RESUMING in one SET. */
	memset(mem, 0xa5, size);
	ret = region_rw(dev, bar0, mem, size, 1);
	check(ret == 0, "overwrite BAR0 with 0xa5");
	t0 = now_ms();
	ret = set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd);
	check(ret == 0 && fd >= 0, "RUNNING->RESUMING gives data_fd %d (%s)", fd, strerror(-ret));
	if (fd < 0)
		fatal("no data_fd");
	check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY, "resume data fd is O_WRONLY");
	ret = write_all(fd, stream, slen, 100003);	/* odd chunks: boundaries don't matter */
	check(ret == 0, "write stream in 100003-byte chunks (%s)", strerror(-ret));
	ret = set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	check(ret == 0, "RESUMING->RUNNING accepts the stream (%s) in %.0f ms", strerror(-ret),
	      now_ms() - t0);
	ret = write(fd, stream, 16) < 0 ? -errno : 0;
	check(ret == -ENODEV, "write on ended resume session gives ENODEV (%s)", strerror(-ret));
	close(fd);
	st = get_state(dev);
	check(st == VFIO_DEVICE_STATE_RUNNING, "state is %s", state_name(st));
	memset(mem, 0, size);
	ret = region_rw(dev, bar0, mem, size, 0);
	check(ret == 0 && !memcmp(mem, pattern, size), "BAR0 holds the saved pattern again");

	/* Single arcs through P2P. */
	ret = set_state(dev, VFIO_DEVICE_STATE_RUNNING_P2P, NULL);
	check(ret == 0 && get_state(dev) == VFIO_DEVICE_STATE_RUNNING_P2P, "RUNNING->RUNNING_P2P");
	ret = set_state(dev, VFIO_DEVICE_STATE_STOP, NULL);
	check(ret == 0 && get_state(dev) == VFIO_DEVICE_STATE_STOP, "RUNNING_P2P->STOP");
	ret = set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	check(ret == 0 && get_state(dev) == VFIO_DEVICE_STATE_RUNNING, "STOP->RUNNING");

	/* Illegal requests. */
	ret = set_state(dev, VFIO_DEVICE_STATE_ERROR, NULL);
	check(ret == -EINVAL && get_state(dev) == VFIO_DEVICE_STATE_RUNNING,
	      "request ERROR gives EINVAL, state stays RUNNING (%s)", strerror(-ret));
	ret = set_state(dev, STATE_PRE_COPY, NULL);
	check(ret == -EINVAL, "request PRE_COPY gives EINVAL on a device without it (%s)",
	      strerror(-ret));

	/* A corrupted stream: the arc leaving RESUMING fails and leaves ERROR. */
	bad = malloc(slen);
	memcpy(bad, stream, slen);
	bad[HDR_SIZE + size / 2] ^= 0x01;
	ret = set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd);
	check(ret == 0 && fd >= 0, "RUNNING->RESUMING for a corrupted stream");
	ret = write_all(fd, bad, slen, 1 << 20);
	check(ret == 0, "write accepts corrupted bytes (checked only on leaving RESUMING)");
	ret = set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	st = get_state(dev);
	check(ret == -EINVAL && st == VFIO_DEVICE_STATE_ERROR,
	      "RESUMING->RUNNING rejects a bad checksum (%s), state %s", strerror(-ret),
	      state_name(st));
	ret = set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	check(ret == -EINVAL, "any request from ERROR gives EINVAL (%s)", strerror(-ret));
	ret = ioctl(dev, VFIO_DEVICE_RESET) < 0 ? -errno : 0;
	st = get_state(dev);
	check(ret == 0 && st == VFIO_DEVICE_STATE_RUNNING, "VFIO_DEVICE_RESET from ERROR gives %s",
	      state_name(st));
	close(fd);

	/* A truncated stream, and reset aborting an open RESUMING session. */
	ret = set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd);
	check(ret == 0 && write_all(fd, stream, slen / 2, 1 << 20) == 0,
	      "RESUMING with half a stream");
	ret = set_state(dev, VFIO_DEVICE_STATE_STOP, NULL);
	st = get_state(dev);
	check(ret == -EINVAL && st == VFIO_DEVICE_STATE_ERROR,
	      "RESUMING->STOP rejects a truncated stream (%s), state %s", strerror(-ret),
	      state_name(st));
	ioctl(dev, VFIO_DEVICE_RESET);
	close(fd);
	ret = set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd);
	check(ret == 0 && write_all(fd, stream, 1000, 1000) == 0, "RESUMING again, 1000 bytes in");
	ret = ioctl(dev, VFIO_DEVICE_RESET) < 0 ? -errno : 0;
	st = get_state(dev);
	check(ret == 0 && st == VFIO_DEVICE_STATE_RUNNING, "reset during RESUMING gives %s",
	      state_name(st));
	ret = write(fd, stream, 16) < 0 ? -errno : 0;
	check(ret == -ENODEV, "write after reset gives ENODEV (%s)", strerror(-ret));
	close(fd);
	ret = region_rw(dev, bar0, mem, 4096, 0);
	check(ret == 0 && !memcmp(mem, (uint8_t[4096]){ 0 }, 4096), "reset zeroed BAR0");

	/* Stream too long: the extra write fails and so does leaving RESUMING. */
	ret = set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd);
	ret = ret ? ret : write_all(fd, stream, slen, 1 << 20);
	n = write(fd, stream, 1);
	ret = ret ? ret : n < 0 ? -errno : 0;
	check(ret == -ENOSPC, "writing past one stream gives ENOSPC (%s)", strerror(-ret));
	ret = set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	check(ret == -EINVAL && get_state(dev) == VFIO_DEVICE_STATE_ERROR,
	      "leaving RESUMING after an overflow fails into ERROR");
	ioctl(dev, VFIO_DEVICE_RESET);
	close(fd);

	/* Closing the device ends a session; the next open starts RUNNING. */
	ret = set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	check(ret == 0 && fd >= 0, "STOP_COPY again before closing the device");
	close(dev);
	ret = read(fd, link, 16) < 0 ? -errno : 0;
	check(ret == -ENODEV, "read after device close gives ENODEV (%s)", strerror(-ret));
	close(fd);
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	st = dev >= 0 ? get_state(dev) : 0xffffffff;
	check(st == VFIO_DEVICE_STATE_RUNNING, "reopened device is %s", state_name(st));
	close(dev);

	close(group);
	close(container);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	ret = write_file(path, "1");
	check(ret == 0, "remove mdev (%s)", strerror(-ret));

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
