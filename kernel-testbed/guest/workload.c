// SPDX-License-Identifier: GPL-2.0-only
/*
 * workload - stands in for a VM or a DPDK process in the test bed: it opens a
 * vfio_mig_test mdev the way they do (container, group, type1v2, device fd),
 * keeps it open, and uses its device memory (BAR0) on command, so that the
 * node agent, in another process, can take its device fd with pidfd_getfd and
 * save or load the device's state underneath it.
 *
 * Usage: workload UUID CMD_FIFO REPLY_FIFO [UUID2]
 *
 * Opens CMD_FIFO for reading, then REPLY_FIFO for writing (the test script
 * opens them in the same order), answers "ready pid=P fd=F" with its device
 * fd number F (and " fd2=G" with UUID2: a second device in the same
 * container, held like a VM's second device so that the devices of one
 * workload can be saved together; the commands act on the first), then one
 * reply line per command line:
 *
 *   fill SEED     write the pattern of SEED over all of BAR0   -> ok | error E
 *   check SEED    compare BAR0 with the pattern of SEED         -> match | mismatch at N | error E
 *   rewrite       read the first 4 KiB of BAR0 and write them back (writes
 *                 succeed only while the device is RUNNING)     -> ok | error E
 *   state         GET MIG_DEVICE_STATE                          -> RUNNING, STOP, ... | error E
 *   quit          close everything and exit                     -> bye
 *
 * Statically linked: the guest's initramfs has no libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int dev;
static uint64_t bar0, size;
static uint8_t *pattern, *mem;

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x;
	}
}

static int region_rw(uint64_t off, uint8_t *buf, size_t len, int wr)
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

static const char *state_name(uint32_t s)
{
	static const char *names[] = { "ERROR", "STOP", "RUNNING", "STOP_COPY",
				       "RESUMING", "RUNNING_P2P", "PRE_COPY",
				       "PRE_COPY_P2P" };
	return s < 8 ? names[s] : "?";
}

static int container = -1, iommu_set;

/* Opens UUID's group into the one container and returns the device fd. */
static int open_device(const char *uuid)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX };
	char path[256], link[256];
	int group, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(link));
	group = open(path, O_RDWR);
	if (group < 0 || ioctl(group, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return -1;
	/* The IOMMU model is set once, after the container's first group. */
	if (!iommu_set && ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	iommu_set = 1;
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (fd < 0 || ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -1;
	bar0 = ri.offset;
	size = ri.size;
	return fd;
}

static void state(FILE *out)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_mig_state mig;
	} f = { .hdr = { .argsz = sizeof(f),
			 .flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE } };

	if (ioctl(dev, VFIO_DEVICE_FEATURE, &f))
		fprintf(out, "error %s\n", strerror(errno));
	else
		fprintf(out, "%s\n", state_name(f.mig.device_state));
}

int main(int argc, char **argv)
{
	char line[128];
	unsigned seed;
	FILE *in, *out;
	int ret, dev2 = -1;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: workload UUID CMD_FIFO REPLY_FIFO [UUID2]\n");
		return 2;
	}
	in = fopen(argv[2], "r");
	out = fopen(argv[3], "w");
	if (!in || !out)
		return 1;
	setvbuf(out, NULL, _IOLBF, 0);
	container = open("/dev/vfio/vfio", O_RDWR);
	if (argc == 5) {
		dev2 = open_device(argv[4]);
		if (dev2 < 0) {
			fprintf(out, "error opening %s: %s\n", argv[4], strerror(errno));
			return 1;
		}
	}
	dev = open_device(argv[1]);
	if (dev < 0) {
		fprintf(out, "error opening %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	pattern = malloc(size);
	mem = malloc(size);
	if (dev2 < 0)
		fprintf(out, "ready pid=%d fd=%d\n", getpid(), dev);
	else
		fprintf(out, "ready pid=%d fd=%d fd2=%d\n", getpid(), dev, dev2);

	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "fill %u", &seed) == 1) {
			fill_pattern(pattern, size, seed);
			ret = region_rw(bar0, pattern, size, 1);
			fprintf(out, ret ? "error %s\n" : "ok\n", strerror(-ret));
		} else if (sscanf(line, "check %u", &seed) == 1) {
			fill_pattern(pattern, size, seed);
			ret = region_rw(bar0, mem, size, 0);
			if (ret) {
				fprintf(out, "error %s\n", strerror(-ret));
				continue;
			}
			for (size_t i = 0; i < size; i++) {
				if (mem[i] != pattern[i]) {
					fprintf(out, "mismatch at %zu\n", i);
					ret = 1;
					break;
				}
			}
			if (!ret)
				fprintf(out, "match\n");
		} else if (!strncmp(line, "rewrite", 7)) {
			ret = region_rw(bar0, mem, 4096, 0);
			ret = ret ? ret : region_rw(bar0, mem, 4096, 1);
			fprintf(out, ret ? "error %s\n" : "ok\n", strerror(-ret));
		} else if (!strncmp(line, "state", 5)) {
			state(out);
		} else if (!strncmp(line, "quit", 4)) {
			fprintf(out, "bye\n");
			break;
		} else {
			fprintf(out, "error unknown command\n");
		}
	}
	close(dev);
	if (dev2 >= 0)
		close(dev2);
	return 0;
}
