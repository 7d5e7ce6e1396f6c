// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vmm - a tiny KVM virtual machine monitor whose exits and I/O are known
 * exactly.
 *
 * It stands for QEMU in the tests of iotrace's VM attribution: one VM, one
 * vCPU thread named "CPU 0/KVM" (as QEMU names it), and optionally one I/O
 * thread named "IO iothread0".  The guest is a real-mode program of a few
 * bytes (below) that rings a doorbell --requests times -- an `out` to an I/O
 * port or a store to an unmapped guest-physical address -- and then halts.
 * Every doorbell exit is answered with exactly one 4 KiB O_DIRECT pread or
 * pwrite at a pseudo-random offset of --disk, done by the vCPU thread itself
 * or, with --io-thread, handed to the I/O thread while the vCPU thread waits
 * for its completion before it re-enters the guest.
 *
 * With --tap instead of --disk, the VM has a network card: every doorbell
 * exit is answered with exactly one Ethernet frame (IPv4/UDP, --payload
 * bytes of payload) written to an existing tap device, by the same thread
 * and with the same hand-off as a disk I/O; with --rx, a reader thread
 * named "IO rx0" also reads frames from the tap until it has COUNT IPv4/UDP
 * ones for the VM's address.  The host thus receives --requests frames from
 * the tap and transmits to it what the test sends to the VM's address.
 *
 * At the end it prints one line of counts that the tests compare with the
 * kernel's own (tracepoints, /sys/block/X/stat, the tap's link counters).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

const char tool_name[] = "vmm";

#define IO_SIZE 4096
#define MEM_SIZE 0x10000 /* guest RAM: 64 KiB at GPA 0, memslot 0 */
#define CODE_GPA 0x1000 /* where the guest program is loaded */
#define STACK_GPA 0x8000
#define DOORBELL_PORT 0x10
/* Outside every memslot, so a store to it exits with KVM_EXIT_MMIO. */
#define DOORBELL_GPA 0xd0000
#define COUNT_OFFSET 2 /* of the imm32 of "mov ecx, N" in both programs */

#define VCPU_THREAD_NAME "CPU 0/KVM"
#define IO_THREAD_NAME "IO iothread0"
#define RX_THREAD_NAME "IO rx0"

/*
 * The network card: a fixed locally administered MAC (the test's static
 * neighbour entry names it) and UDP port.  Payloads stop at what fits one
 * 1500-byte MTU, so a frame is never more than the tap's link carries.
 */
#define VM_MAC "02:76:6d:6d:00:01"
#define VM_MAC_BYTES                               \
	{                                          \
		0x02, 0x76, 0x6d, 0x6d, 0x00, 0x01 \
	} /* the same */
#define VM_UDP_PORT 5000
#define HDRS_LEN (ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr))
#define PAYLOAD_MAX (1500 - sizeof(struct iphdr) - sizeof(struct udphdr))
#define FRAME_MAX (HDRS_LEN + PAYLOAD_MAX)
#define RX_BUF_SIZE 65536 /* a tap without offloads delivers less */

/*
 * The guest programs, 16-bit real mode, loaded at CODE_GPA with
 * cs.base = 0.  ECX counts the doorbells left; before each one AL gets its
 * low byte, so the VMM can check that every doorbell is the one it expects.
 * After the last one the guest halts (KVM_EXIT_HLT: no in-kernel irqchip).
 */
static const uint8_t guest_pio[] = {
	/* 0x00 */ 0x66, 0xb9, 0, 0, 0, 0, /* mov ecx, N (patched) */
	/* 0x06 */ 0x66, 0x85, 0xc9, /* test ecx, ecx */
	/* 0x09 */ 0x74, 0x08, /* jz done (0x13) */
	/* loop: */
	/* 0x0b */ 0x88, 0xc8, /* mov al, cl */
	/* 0x0d */ 0xe6, DOORBELL_PORT, /* out DOORBELL_PORT, al: doorbell */
	/* 0x0f */ 0x66, 0x49, /* dec ecx */
	/* 0x11 */ 0x75, 0xf8, /* jnz loop (0x0b) */
	/* done: */
	/* 0x13 */ 0xf4, /* hlt */
	/* 0x14 */ 0xeb, 0xfd, /* jmp done (0x13), should it resume */
};

static const uint8_t guest_mmio[] = {
	/* 0x00 */ 0x66, 0xb9, 0, 0, 0, 0, /* mov ecx, N (patched) */
	/* 0x06 */ 0xb8, 0x00, DOORBELL_GPA >> 12, /* mov ax, DOORBELL_GPA >> 4 */
	/* 0x09 */ 0x8e, 0xc0, /* mov es, ax: es.base = DOORBELL_GPA */
	/* 0x0b */ 0x66, 0x85, 0xc9, /* test ecx, ecx */
	/* 0x0e */ 0x74, 0x0a, /* jz done (0x1a) */
	/* loop: */
	/* 0x10 */ 0x88, 0xc8, /* mov al, cl */
	/* 0x12 */ 0x26, 0xa2, 0x00, 0x00, /* mov [es:0x0000], al: doorbell */
	/* 0x16 */ 0x66, 0x49, /* dec ecx */
	/* 0x18 */ 0x75, 0xf6, /* jnz loop (0x10) */
	/* done: */
	/* 0x1a */ 0xf4, /* hlt */
	/* 0x1b */ 0xeb, 0xfd, /* jmp done (0x1a), should it resume */
};

_Static_assert((DOORBELL_GPA & ~0xff000) == 0,
	       "DOORBELL_GPA must be (a segment with a zero low byte) << 4");
_Static_assert(DOORBELL_GPA >= MEM_SIZE, "DOORBELL_GPA must be outside guest RAM");

enum mode {
	MODE_PIO,
	MODE_MMIO,
};

enum req_state {
	REQ_IDLE,
	REQ_PENDING,
	REQ_DONE,
};

struct vmm {
	/* options */
	uint64_t requests;
	enum mode mode;
	const char *disk;
	bool io_thread;
	const char *cgroup;
	uint64_t write_every;
	uint64_t seed;
	const char *tap;
	uint64_t payload;
	struct in_addr src_ip, dst_ip;
	uint16_t dst_port;
	uint8_t dst_mac[ETH_ALEN];
	bool have_src, have_dst, have_dst_mac;
	uint64_t rx_count;
	uint64_t timeout_s;
	uint64_t hold_ms;
	uint64_t cpu_us;

	/* KVM */
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;

	/* the disk */
	int disk_fd;
	uint64_t blocks;
	void *buf;
	uint64_t rng;

	/* the tap: one descriptor, written by the I/O side, read by "IO rx0" */
	int tap_fd;
	uint8_t frame[FRAME_MAX];
	size_t frame_len;

	/* vCPU thread -> I/O thread hand-off, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum req_state state;
	bool quit;
	uint64_t req_off;
	bool req_write;

	/*
	 * Counts; the I/O ones are written by whichever thread does the I/O,
	 * the rx ones by "IO rx0"; main reads them all after the joins.
	 */
	uint64_t doorbells, userspace_exits, pio_exits, mmio_exits;
	uint64_t ios, reads, writes;
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, rx_other;
};

static const char usage_text[] =
	"Usage: vmm --disk PATH [OPTIONS]\n"
	"       vmm --tap NAME --src IP --dst IP:PORT --dst-mac MAC [OPTIONS]\n"
	"\n"
	"Run a tiny real-mode KVM guest that rings a doorbell N times; answer\n"
	"each doorbell exit with one 4 KiB O_DIRECT read or write of PATH, or\n"
	"with one Ethernet frame (IPv4/UDP) written to the tap device NAME.\n"
	"\n"
	"Options:\n"
	"  --disk PATH         disk image or block device (opened O_RDWR|O_DIRECT)\n"
	"  --tap NAME          an existing tap device ('ip tuntap add dev NAME mode\n"
	"                      tap', up), attached with IFF_TAP|IFF_NO_PI; the VM's\n"
	"                      MAC is " VM_MAC ", its UDP port %d\n"
	"  --requests N        doorbells, hence I/Os (10000)\n"
	"  --mode pio|mmio     doorbell: 'out' to port 0x10 or a store to the\n"
	"                      unmapped GPA 0xd0000 (pio)\n"
	"  --io-thread         do the I/O in a separate thread \"" IO_THREAD_NAME "\";\n"
	"                      the vCPU thread waits for each one\n"
	"  --write-every K     every K-th request is a write, the rest reads\n"
	"                      (0: reads only; default 0)\n"
	"  --seed N            seed of the offset PRNG (1)\n"
	"  --cgroup DIR        first move into cgroup2 directory DIR (absolute)\n"
	"  --hold-ms MS        wait MS ms after the first doorbell exit before\n"
	"                      answering it: a tracer that finds VMs by their KVM\n"
	"                      events then sees the VM before its first I/O (0)\n"
	"  --cpu-us US         before answering each doorbell, compute in the vCPU\n"
	"                      thread until it has used US us more CPU time, as a\n"
	"                      device model emulating in the vCPU thread does (0)\n"
	"\n"
	"With --tap:\n"
	"  --src IP            the VM's IPv4 address\n"
	"  --dst IP:PORT       where the frames go\n"
	"  --dst-mac MAC       their destination MAC: the tap's own\n"
	"  --payload BYTES     UDP payload of each frame, at most %zu (512)\n"
	"  --rx COUNT          also read frames from the tap in a thread\n"
	"                      \"" RX_THREAD_NAME "\" until COUNT IPv4/UDP ones to --src\n"
	"                      arrived (others are counted in rx_other); exit only\n"
	"                      then (0)\n"
	"  --timeout S         fail if the --rx frames are not all there after S\n"
	"                      seconds (10)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Prints: vmm: doorbells=N userspace_exits=E pio_exits=P mmio_exits=M\n"
	"        ios=I reads=R writes=W (one line), with --tap followed by\n"
	"        tx_frames=T tx_bytes=B rx_frames=F rx_bytes=X rx_other=O\n"
	"        (bytes of UDP payload)\n";

static void parse_mac(const char *opt, const char *s, uint8_t *mac)
{
	int n = -1;

	if (sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1], &mac[2], &mac[3],
		   &mac[4], &mac[5], &n) != 6 ||
	    n != (int)strlen(s))
		usage_error("%s needs a MAC such as 02:00:00:00:00:01, got '%s'", opt, s);
}

static void parse_ip(const char *opt, const char *s, struct in_addr *ip)
{
	if (inet_pton(AF_INET, s, ip) != 1)
		usage_error("%s needs an IPv4 address, got '%s'", opt, s);
}

/* --dst IP:PORT */
static void parse_dst(const char *s, struct in_addr *ip, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char ip_s[INET_ADDRSTRLEN];

	if (!colon || (size_t)(colon - s) >= sizeof(ip_s))
		usage_error("--dst needs IP:PORT, got '%s'", s);
	memcpy(ip_s, s, colon - s);
	ip_s[colon - s] = '\0';
	parse_ip("--dst", ip_s, ip);
	*port = (uint16_t)parse_u64("--dst PORT", colon + 1, 65535);
	if (!*port)
		usage_error("--dst needs a port from 1 to 65535, got '%s'", s);
}

static void parse_args(int argc, char **argv, struct vmm *v)
{
	const char *val;
	int i;

	v->requests = 10000;
	v->mode = MODE_PIO;
	v->seed = 1;
	v->payload = 512;
	v->timeout_s = 10;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			printf(usage_text, VM_UDP_PORT, PAYLOAD_MAX);
			exit(0);
		} else if (!strcmp(arg, "--io-thread")) {
			v->io_thread = true;
		} else if ((val = opt_value(argc, argv, &i, "--requests"))) {
			v->requests = parse_u64("--requests", val, UINT32_MAX);
		} else if ((val = opt_value(argc, argv, &i, "--mode"))) {
			if (!strcmp(val, "pio"))
				v->mode = MODE_PIO;
			else if (!strcmp(val, "mmio"))
				v->mode = MODE_MMIO;
			else
				usage_error("--mode must be pio or mmio, got '%s'", val);
		} else if ((val = opt_value(argc, argv, &i, "--disk"))) {
			v->disk = val;
		} else if ((val = opt_value(argc, argv, &i, "--tap"))) {
			if (!*val || strlen(val) >= IFNAMSIZ)
				usage_error(
					"--tap needs a device name of 1 to %d characters, got '%s'",
					IFNAMSIZ - 1, val);
			v->tap = val;
		} else if ((val = opt_value(argc, argv, &i, "--src"))) {
			parse_ip("--src", val, &v->src_ip);
			v->have_src = true;
		} else if ((val = opt_value(argc, argv, &i, "--dst"))) {
			parse_dst(val, &v->dst_ip, &v->dst_port);
			v->have_dst = true;
		} else if ((val = opt_value(argc, argv, &i, "--dst-mac"))) {
			parse_mac("--dst-mac", val, v->dst_mac);
			v->have_dst_mac = true;
		} else if ((val = opt_value(argc, argv, &i, "--payload"))) {
			v->payload = parse_u64("--payload", val, PAYLOAD_MAX);
		} else if ((val = opt_value(argc, argv, &i, "--rx"))) {
			v->rx_count = parse_u64("--rx", val, UINT64_MAX);
		} else if ((val = opt_value(argc, argv, &i, "--timeout"))) {
			v->timeout_s = parse_u64("--timeout", val, 86400);
		} else if ((val = opt_value(argc, argv, &i, "--hold-ms"))) {
			v->hold_ms = parse_u64("--hold-ms", val, 3600000);
		} else if ((val = opt_value(argc, argv, &i, "--cpu-us"))) {
			v->cpu_us = parse_u64("--cpu-us", val, 60000000);
		} else if ((val = opt_value(argc, argv, &i, "--write-every"))) {
			v->write_every = parse_u64("--write-every", val, UINT64_MAX);
		} else if ((val = opt_value(argc, argv, &i, "--seed"))) {
			v->seed = parse_u64("--seed", val, UINT64_MAX);
		} else if ((val = opt_value(argc, argv, &i, "--cgroup"))) {
			if (val[0] != '/')
				usage_error(
					"--cgroup needs an absolute cgroup2 directory, got '%s'",
					val);
			v->cgroup = val;
		} else {
			usage_error("unknown option or argument '%s'", arg);
		}
	}
	if (!v->disk && !v->tap)
		usage_error("--disk PATH or --tap NAME is required");
	if (v->disk && v->tap)
		usage_error(
			"--disk and --tap exclude each other: a doorbell is answered by one I/O");
	if (v->tap && (!v->have_src || !v->have_dst || !v->have_dst_mac))
		usage_error("--tap needs --src IP, --dst IP:PORT and --dst-mac MAC");
	if (!v->tap && (v->have_src || v->have_dst || v->have_dst_mac || v->rx_count))
		usage_error("--src, --dst, --dst-mac and --rx need --tap");
}

static void open_disk(struct vmm *v)
{
	struct stat st;
	uint64_t size, *p;
	int err;

	v->disk_fd = open(v->disk, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (v->disk_fd < 0)
		die("open %s O_RDWR|O_DIRECT: %s", v->disk, strerror(errno));
	if (fstat(v->disk_fd, &st))
		die("fstat %s: %s", v->disk, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(v->disk_fd, BLKGETSIZE64, &size))
			die("ioctl BLKGETSIZE64 %s: %s", v->disk, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		size = st.st_size;
	} else {
		die("%s is neither a block device nor a regular file", v->disk);
	}
	v->blocks = size / IO_SIZE;
	if (v->blocks == 0)
		die("%s is %llu bytes, smaller than one %d-byte block", v->disk,
		    (unsigned long long)size, IO_SIZE);
	err = posix_memalign(&v->buf, IO_SIZE, IO_SIZE);
	if (err)
		die("posix_memalign(%d, %d): %s", IO_SIZE, IO_SIZE, strerror(err));
	/* Non-zero data, so nothing along the way can special-case it. */
	for (p = v->buf; (char *)p < (char *)v->buf + IO_SIZE; p++)
		*p = rng_next(&v->rng);
}

/* One 4 KiB O_DIRECT pread or pwrite; in the vCPU or the I/O thread. */
static void do_io(struct vmm *v, uint64_t off, bool write)
{
	ssize_t n;

	if (write)
		n = pwrite(v->disk_fd, v->buf, IO_SIZE, off);
	else
		n = pread(v->disk_fd, v->buf, IO_SIZE, off);
	if (n < 0)
		die("%s of %d bytes at offset %llu of %s: %s", write ? "pwrite" : "pread", IO_SIZE,
		    (unsigned long long)off, v->disk, strerror(errno));
	if (n != IO_SIZE)
		die("short %s at offset %llu of %s: %zd of %d bytes", write ? "pwrite" : "pread",
		    (unsigned long long)off, v->disk, n, IO_SIZE);
	v->ios++;
	if (write)
		v->writes++;
	else
		v->reads++;
}

/* The Internet checksum (RFC 1071) of len bytes, in host order. */
static uint16_t inet_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The one frame every doorbell sends, built once: nothing in it changes
 * from one to the next.  The IP id stays 0, as RFC 6864 allows for a
 * datagram that may not be fragmented (DF); the UDP checksum is 0, "none",
 * which IPv4 allows.
 */
static void build_frame(struct vmm *v)
{
	struct ethhdr eth = { .h_source = VM_MAC_BYTES, .h_proto = htons(ETH_P_IP) };
	struct iphdr ip = { 0 };
	struct udphdr udp = { 0 };
	uint8_t *p = v->frame;

	memcpy(eth.h_dest, v->dst_mac, ETH_ALEN);
	ip.version = 4;
	ip.ihl = sizeof(ip) / 4;
	ip.tot_len = htons(sizeof(ip) + sizeof(udp) + v->payload);
	ip.frag_off = htons(IP_DF);
	ip.ttl = 64;
	ip.protocol = IPPROTO_UDP;
	ip.saddr = v->src_ip.s_addr;
	ip.daddr = v->dst_ip.s_addr;
	ip.check = htons(inet_csum((const uint8_t *)&ip, sizeof(ip)));
	udp.source = htons(VM_UDP_PORT);
	udp.dest = htons(v->dst_port);
	udp.len = htons(sizeof(udp) + v->payload);

	memcpy(p, &eth, ETH_HLEN);
	memcpy(p + ETH_HLEN, &ip, sizeof(ip));
	memcpy(p + ETH_HLEN + sizeof(ip), &udp, sizeof(udp));
	/* Non-zero data, as for the disk. */
	for (size_t i = 0; i < v->payload; i++)
		p[HDRS_LEN + i] = (uint8_t)rng_next(&v->rng);
	v->frame_len = HDRS_LEN + v->payload;
}

/* Attach to the existing tap v->tap; TUNSETIFF would create a missing one. */
static void open_tap(struct vmm *v)
{
	struct ifreq ifr = { 0 };

	if (!if_nametoindex(v->tap))
		die("there is no network device %s (create it with 'ip tuntap add dev %s mode tap')",
		    v->tap, v->tap);
	v->tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (v->tap_fd < 0)
		die("open /dev/net/tun: %s", strerror(errno));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, v->tap, strlen(v->tap));
	if (ioctl(v->tap_fd, TUNSETIFF, &ifr))
		die("ioctl TUNSETIFF %s (IFF_TAP|IFF_NO_PI): %s (is it a tap device, not a tun "
		    "or multi-queue one?)",
		    v->tap, strerror(errno));
	build_frame(v);
}

/* One frame to the tap: the host receives it; in the vCPU or the I/O thread. */
static void send_frame(struct vmm *v)
{
	ssize_t n = write(v->tap_fd, v->frame, v->frame_len);

	if (n < 0)
		die("write of a %zu-byte frame to tap %s: %s", v->frame_len, v->tap,
		    strerror(errno));
	if ((size_t)n != v->frame_len)
		die("short write to tap %s: %zd of %zu bytes", v->tap, n, v->frame_len);
	v->tx_frames++;
	v->tx_bytes += v->payload;
}

/*
 * A frame read from the tap: an IPv4/UDP datagram to the VM's address, whose
 * payload length it returns, or -1 for anything else.
 */
static int64_t rx_payload(const struct vmm *v, const uint8_t *f, size_t len)
{
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	size_t ihl, tot, ulen;

	if (len < HDRS_LEN)
		return -1;
	memcpy(&eth, f, ETH_HLEN);
	memcpy(&ip, f + ETH_HLEN, sizeof(ip));
	/* A fragment's UDP header is in its first piece only: not ours. */
	if (eth.h_proto != htons(ETH_P_IP) || ip.version != 4 || ip.protocol != IPPROTO_UDP ||
	    ip.daddr != v->src_ip.s_addr || (ntohs(ip.frag_off) & (IP_MF | IP_OFFMASK)))
		return -1;
	ihl = ip.ihl * 4u;
	tot = ntohs(ip.tot_len);
	if (ihl < sizeof(ip) || tot > len - ETH_HLEN || tot < ihl + sizeof(udp))
		return -1;
	memcpy(&udp, f + ETH_HLEN + ihl, sizeof(udp));
	ulen = ntohs(udp.len);
	if (ulen < sizeof(udp) || ulen > tot - ihl)
		return -1;
	return (int64_t)(ulen - sizeof(udp));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Threads name themselves first, before they do anything traced. */
static void set_thread_name(const char *name)
{
	if (prctl(PR_SET_NAME, name, 0, 0, 0))
		die("prctl PR_SET_NAME \"%s\": %s", name, strerror(errno));
}

/* Read frames until v->rx_count IPv4/UDP ones to us came, or time runs out. */
static void *rx_thread_main(void *arg)
{
	struct vmm *v = arg;
	uint64_t deadline;
	uint8_t buf[RX_BUF_SIZE];

	set_thread_name(RX_THREAD_NAME);
	deadline = now_ms() + v->timeout_s * 1000;
	while (v->rx_frames < v->rx_count) {
		struct pollfd pfd = { .fd = v->tap_fd, .events = POLLIN };
		uint64_t now = now_ms();
		int64_t payload;
		ssize_t n;
		int r;

		if (now >= deadline)
			die("timed out after %llu s: read %llu of %llu IPv4/UDP frames from tap %s "
			    "(and %llu others)",
			    (unsigned long long)v->timeout_s, (unsigned long long)v->rx_frames,
			    (unsigned long long)v->rx_count, v->tap,
			    (unsigned long long)v->rx_other);
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			die("poll on tap %s: %s", v->tap, strerror(errno));
		if (r <= 0)
			continue;
		/* Only this thread reads, so the read cannot block. */
		n = read(v->tap_fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("read from tap %s: %s", v->tap, strerror(errno));
		}
		payload = rx_payload(v, buf, n);
		if (payload < 0) {
			v->rx_other++;
			continue;
		}
		v->rx_frames++;
		v->rx_bytes += payload;
	}
	return NULL;
}

/* One request: a disk I/O or, with --tap, a frame sent. */
static void do_request(struct vmm *v, uint64_t off, bool write)
{
	if (v->tap)
		send_frame(v);
	else
		do_io(v, off, write);
}

static void *io_thread_main(void *arg)
{
	struct vmm *v = arg;
	uint64_t off;
	bool write;

	set_thread_name(IO_THREAD_NAME);
	pthread_mutex_lock(&v->lock);
	for (;;) {
		while (v->state != REQ_PENDING && !v->quit)
			pthread_cond_wait(&v->cond, &v->lock);
		if (v->quit)
			break;
		off = v->req_off;
		write = v->req_write;
		pthread_mutex_unlock(&v->lock);

		do_request(v, off, write);

		pthread_mutex_lock(&v->lock);
		v->state = REQ_DONE;
		pthread_cond_broadcast(&v->cond);
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

/* Answer doorbell number v->doorbells (from 0): one I/O, done when we return. */
static void serve_request(struct vmm *v)
{
	uint64_t off = v->tap ? 0 : rng_below(&v->rng, v->blocks) * IO_SIZE;
	bool write = v->write_every && (v->doorbells + 1) % v->write_every == 0;

	if (!v->io_thread) {
		do_request(v, off, write);
		return;
	}
	pthread_mutex_lock(&v->lock);
	v->req_off = off;
	v->req_write = write;
	v->state = REQ_PENDING;
	pthread_cond_broadcast(&v->cond);
	while (v->state != REQ_DONE)
		pthread_cond_wait(&v->cond, &v->lock);
	v->state = REQ_IDLE;
	pthread_mutex_unlock(&v->lock);
}

/* The low byte of ECX the guest puts in AL for the doorbell we expect. */
static uint8_t expected_data(const struct vmm *v)
{
	return (uint8_t)(v->requests - v->doorbells);
}

static void handle_pio(struct vmm *v)
{
	struct kvm_run *run = v->run;
	uint8_t data;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != DOORBELL_PORT ||
	    run->io.size != 1 || run->io.count != 1)
		die("unexpected KVM_EXIT_IO: %s port 0x%x size %u count %u (the doorbell is an "
		    "'out' of 1 byte to port 0x%x)",
		    run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port, run->io.size,
		    run->io.count, DOORBELL_PORT);
	if (run->io.data_offset + 1 > v->run_size)
		die("KVM_EXIT_IO data_offset %llu is outside the %zu-byte kvm_run mapping",
		    (unsigned long long)run->io.data_offset, v->run_size);
	data = *((uint8_t *)run + run->io.data_offset);
	if (data != expected_data(v))
		die("doorbell %llu carries 0x%02x, expected 0x%02x: the guest is out of step",
		    (unsigned long long)v->doorbells, data, expected_data(v));
}

static void handle_mmio(struct vmm *v)
{
	struct kvm_run *run = v->run;

	if (!run->mmio.is_write || run->mmio.phys_addr != DOORBELL_GPA || run->mmio.len != 1)
		die("unexpected KVM_EXIT_MMIO: %s of %u bytes at GPA 0x%llx (the doorbell is a "
		    "1-byte write to 0x%x)",
		    run->mmio.is_write ? "write" : "read", run->mmio.len,
		    (unsigned long long)run->mmio.phys_addr, DOORBELL_GPA);
	if (run->mmio.data[0] != expected_data(v))
		die("doorbell %llu carries 0x%02x, expected 0x%02x: the guest is out of step",
		    (unsigned long long)v->doorbells, run->mmio.data[0], expected_data(v));
}

static void hold(uint64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts))
		if (errno != EINTR)
			die("nanosleep: %s", strerror(errno));
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		die("clock_gettime(CLOCK_THREAD_CPUTIME_ID): %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* --cpu-us: use this much more CPU time in the calling thread (waiting for a CPU does not count). */
static void compute(uint64_t us)
{
	uint64_t end = thread_cpu_ns() + us * 1000;
	volatile uint64_t x = 0;

	while (thread_cpu_ns() < end)
		for (int i = 0; i < 1000; i++)
			x = x + (uint64_t)i;
}

static void *vcpu_thread_main(void *arg)
{
	struct vmm *v = arg;
	struct kvm_run *run = v->run;

	set_thread_name(VCPU_THREAD_NAME);
	for (;;) {
		int r = ioctl(v->vcpu_fd, KVM_RUN, 0);

		v->userspace_exits++;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("ioctl KVM_RUN: %s (errno %d)", strerror(errno), errno);
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			v->pio_exits++;
			if (v->mode != MODE_PIO)
				die("unexpected exit reason KVM_EXIT_IO (%d) in mmio mode",
				    KVM_EXIT_IO);
			handle_pio(v);
			break;
		case KVM_EXIT_MMIO:
			v->mmio_exits++;
			if (v->mode != MODE_MMIO)
				die("unexpected exit reason KVM_EXIT_MMIO (%d) in pio mode",
				    KVM_EXIT_MMIO);
			handle_mmio(v);
			break;
		case KVM_EXIT_HLT:
			if (v->doorbells != v->requests)
				die("the guest halted after %llu of %llu doorbells",
				    (unsigned long long)v->doorbells,
				    (unsigned long long)v->requests);
			return NULL;
		case KVM_EXIT_INTR:
			continue;
		case KVM_EXIT_FAIL_ENTRY:
			die("unexpected exit reason KVM_EXIT_FAIL_ENTRY (%d): hardware entry "
			    "failure reason 0x%llx",
			    KVM_EXIT_FAIL_ENTRY,
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			die("unexpected exit reason KVM_EXIT_INTERNAL_ERROR (%d): suberror %u",
			    KVM_EXIT_INTERNAL_ERROR, run->internal.suberror);
		default:
			die("unexpected exit reason %u", run->exit_reason);
		}
		if (v->doorbells >= v->requests)
			die("the guest rang more than the %llu doorbells asked for",
			    (unsigned long long)v->requests);
		if (v->doorbells == 0 && v->hold_ms)
			hold(v->hold_ms);
		if (v->cpu_us)
			compute(v->cpu_us);
		serve_request(v);
		v->doorbells++;
	}
}

static int kvm_ioctl(int fd, unsigned long req, const char *name, void *arg)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		die("ioctl %s: %s (errno %d)", name, strerror(errno), errno);
	return r;
}

#define KVM_IOCTL(fd, req, arg) kvm_ioctl(fd, req, #req, arg)

static void setup_vm(struct vmm *v)
{
	struct kvm_userspace_memory_region region = { 0 };
	const uint8_t *prog;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint32_t count;
	size_t prog_len;
	int r;

	v->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm_fd < 0)
		die("open /dev/kvm: %s (errno %d)", strerror(errno), errno);
	r = KVM_IOCTL(v->kvm_fd, KVM_GET_API_VERSION, NULL);
	if (r != KVM_API_VERSION)
		die("ioctl KVM_GET_API_VERSION: %d, expected %d", r, KVM_API_VERSION);
	v->vm_fd = KVM_IOCTL(v->kvm_fd, KVM_CREATE_VM, (void *)0);

	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->mem == MAP_FAILED)
		die("mmap of %d bytes of guest memory: %s", MEM_SIZE, strerror(errno));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	KVM_IOCTL(v->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);

	if (v->mode == MODE_PIO) {
		prog = guest_pio;
		prog_len = sizeof(guest_pio);
	} else {
		prog = guest_mmio;
		prog_len = sizeof(guest_mmio);
	}
	memcpy(v->mem + CODE_GPA, prog, prog_len);
	count = (uint32_t)v->requests;
	memcpy(v->mem + CODE_GPA + COUNT_OFFSET, &count, sizeof(count));

	v->vcpu_fd = KVM_IOCTL(v->vm_fd, KVM_CREATE_VCPU, (void *)0);
	r = KVM_IOCTL(v->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if ((size_t)r < sizeof(struct kvm_run))
		die("ioctl KVM_GET_VCPU_MMAP_SIZE: %d, smaller than struct kvm_run (%zu)", r,
		    sizeof(struct kvm_run));
	v->run_size = r;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu_fd, 0);
	if (v->run == MAP_FAILED)
		die("mmap of the %zu-byte kvm_run of the vCPU: %s", v->run_size, strerror(errno));

	/* Real mode, flat from 0: the vCPU starts at f000:fff0 otherwise. */
	KVM_IOCTL(v->vcpu_fd, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = sregs.es.base = sregs.ss.base = 0;
	sregs.ds.selector = sregs.es.selector = sregs.ss.selector = 0;
	KVM_IOCTL(v->vcpu_fd, KVM_SET_SREGS, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_GPA;
	regs.rflags = 0x2; /* bit 1 is reserved and always set */
	KVM_IOCTL(v->vcpu_fd, KVM_SET_REGS, &regs);
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg, const char *name)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err)
		die("pthread_create (%s): %s", name, strerror(err));
}

int main(int argc, char **argv)
{
	struct vmm v = { 0 };
	pthread_t vcpu_thread, io_thread, rx_thread;
	int err;

	v.kvm_fd = v.vm_fd = v.vcpu_fd = v.disk_fd = v.tap_fd = -1;
	parse_args(argc, argv, &v);
	v.rng = v.seed;
	if (v.cgroup)
		join_cgroup(v.cgroup);
	if (v.tap)
		open_tap(&v);
	else
		open_disk(&v);
	setup_vm(&v);

	err = pthread_mutex_init(&v.lock, NULL);
	if (!err)
		err = pthread_cond_init(&v.cond, NULL);
	if (err)
		die("pthread mutex/cond init: %s", strerror(err));
	if (v.rx_count)
		start_thread(&rx_thread, rx_thread_main, &v, RX_THREAD_NAME);
	if (v.io_thread)
		start_thread(&io_thread, io_thread_main, &v, IO_THREAD_NAME);
	start_thread(&vcpu_thread, vcpu_thread_main, &v, VCPU_THREAD_NAME);

	err = pthread_join(vcpu_thread, NULL);
	if (err)
		die("pthread_join (%s): %s", VCPU_THREAD_NAME, strerror(err));
	if (v.io_thread) {
		pthread_mutex_lock(&v.lock);
		v.quit = true;
		pthread_cond_broadcast(&v.cond);
		pthread_mutex_unlock(&v.lock);
		err = pthread_join(io_thread, NULL);
		if (err)
			die("pthread_join (%s): %s", IO_THREAD_NAME, strerror(err));
	}
	/* The reader ends by itself: it has all its frames or dies at --timeout. */
	if (v.rx_count) {
		err = pthread_join(rx_thread, NULL);
		if (err)
			die("pthread_join (%s): %s", RX_THREAD_NAME, strerror(err));
	}

	if (close(v.tap ? v.tap_fd : v.disk_fd))
		die("close %s: %s", v.tap ? v.tap : v.disk, strerror(errno));
	free(v.buf);
	printf("vmm: doorbells=%llu userspace_exits=%llu pio_exits=%llu mmio_exits=%llu ios=%llu "
	       "reads=%llu writes=%llu",
	       (unsigned long long)v.doorbells, (unsigned long long)v.userspace_exits,
	       (unsigned long long)v.pio_exits, (unsigned long long)v.mmio_exits,
	       (unsigned long long)v.ios, (unsigned long long)v.reads,
	       (unsigned long long)v.writes);
	if (v.tap)
		printf(" tx_frames=%llu tx_bytes=%llu rx_frames=%llu rx_bytes=%llu rx_other=%llu",
		       (unsigned long long)v.tx_frames, (unsigned long long)v.tx_bytes,
		       (unsigned long long)v.rx_frames, (unsigned long long)v.rx_bytes,
		       (unsigned long long)v.rx_other);
	putchar('\n');
	if (fflush(stdout) || ferror(stdout))
		die("writing the summary to stdout: %s", strerror(errno));
	return 0;
}
