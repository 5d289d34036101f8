// SPDX-License-Identifier: MIT
/*
 * ghostport-bpf: loads ghostport-bpf.bpf.c, attaches it at the root of the cgroup v2 hierarchy
 * (so it sees every process's UDP sockets and TCP binds, in every network namespace) and prints one line per
 * event on stdout. Linux, root (CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN, or CAP_SYS_ADMIN).
 *
 * Usage: ghostport-bpf PORT...   (1-64 ports, each 1-65535)
 * stdin:  "ports PORT..." replaces the watched ports; end of input ends the helper.
 * stdout, one line each, fields separated by one space (parsed by electron/node/bpf-events.ts):
 *   ready
 *   event KIND PROTO FAMILY LOCAL LPORT REMOTE RPORT PID COMM NETNS_INODE NETNS_COOKIE SOCK_COOKIE NS
 *     KIND send|connect|bind|close; PROTO udp, or tcp (bind and close only); FAMILY 4|6; an address or port the socket does not have yet
 *     is "*"; COMM is the process name in hex (it may hold any byte but NUL); NS is the kernel's
 *     monotonic clock in nanoseconds at the event.
 *   stat LOST COALESCED   (totals since start, printed when they change: events the ring buffer
 *     had no room for, and repeats of one datagram flow within a second)
 *   error MESSAGE         (then exit status 1)
 *
 * Nothing is left behind: programs and maps are not pinned, and the links that attach them are
 * file descriptors of this process, so the kernel detaches everything when it exits, SIGKILL
 * included (and it gets SIGKILL when its parent dies). A cgroup2 hierarchy is mounted only when
 * none is, and only for as long as it takes to open its root.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "ghostport-bpf.h"
#include "ghostport-bpf.skel.h"

static const char *const KINDS[] = { [KIND_SEND] = "send", [KIND_CONNECT] = "connect", [KIND_BIND] = "bind", [KIND_CLOSE] = "close" };

static void fail(const char *format, ...)
{
	va_list args;
	va_start(args, format);
	fputs("error ", stdout);
	vprintf(format, args);
	fputc('\n', stdout);
	va_end(args);
	fflush(stdout);
	exit(1);
}

static int quiet_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, format, args) : 0;
}

static void print_address(int family, const __u32 *address, __u16 port_be)
{
	char text[INET6_ADDRSTRLEN];
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, address, text, sizeof(text)))
		strcpy(text, "*");
	if (port_be == 0)
		printf(" %s *", text);
	else
		printf(" %s %u", text, ntohs(port_be));
}

static int on_event(void *context, void *data, size_t size)
{
	(void)context;
	const struct event *e = data;
	if (size < sizeof(*e) || e->kind < KIND_SEND || e->kind > KIND_CLOSE)
		return 0;
	int family = e->family == AF_INET6 ? 6 : 4;
	static const __u32 none[4];
	printf("event %s %s %d", KINDS[e->kind], e->protocol == 6 ? "tcp" : "udp", family);
	print_address(family, e->local, e->local_port);
	if (memcmp(e->remote, none, sizeof(none)) == 0 && e->remote_port == 0)
		printf(" * *");
	else
		print_address(family, e->remote, e->remote_port);
	printf(" %u ", e->pid);
	for (size_t i = 0; i < sizeof(e->comm) && e->comm[i] != '\0'; i++)
		printf("%02x", (unsigned char)e->comm[i]);
	if (e->comm[0] == '\0')
		putchar('-');
	printf(" %u %llu %llu %llu\n", e->netns_inode, (unsigned long long)e->netns_cookie, (unsigned long long)e->sock_cookie, (unsigned long long)e->ns);
	return 0;
}

/* Parses ports from words; returns how many, or -1 when one is not a port. */
static int parse_ports(char **words, int n, __u16 *out)
{
	if (n < 1 || n > MAX_PORTS)
		return -1;
	for (int i = 0; i < n; i++) {
		char *end;
		errno = 0;
		long value = strtol(words[i], &end, 10);
		if (errno || *end != '\0' || end == words[i] || value < 1 || value > 65535)
			return -1;
		out[i] = (__u16)value;
	}
	return n;
}

/* Makes the kernel map hold exactly these ports (added first, so no watched port is ever out). */
static int set_ports(int map, const __u16 *wanted, int n)
{
	__u8 one = 1;
	for (int i = 0; i < n; i++)
		if (bpf_map_update_elem(map, &wanted[i], &one, BPF_ANY) != 0)
			return -1;
	__u16 key, next, stale[MAX_PORTS];
	int stale_count = 0;
	__u16 *previous = NULL;
	while (bpf_map_get_next_key(map, previous, &next) == 0) {
		int keep = 0;
		for (int i = 0; i < n; i++)
			keep |= wanted[i] == next;
		if (!keep && stale_count < MAX_PORTS)
			stale[stale_count++] = next;
		key = next;
		previous = &key;
	}
	for (int i = 0; i < stale_count; i++)
		bpf_map_delete_elem(map, &stale[i]);
	return 0;
}

/* The root of the cgroup v2 hierarchy, opened; mounts one for a moment when none is mounted. */
static int open_cgroup_root(void)
{
	FILE *mounts = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	while (mounts && fgets(line, sizeof(line), mounts)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char root[PATH_MAX], point[PATH_MAX];
		char *dash = strstr(line, " - ");
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 || strcmp(root, "/") != 0)
			continue;
		if (strchr(point, '\\'))
			continue; /* an escaped path: skip rather than unescape */
		int fd = open(point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fclose(mounts);
			return fd;
		}
	}
	if (mounts)
		fclose(mounts);
	char dir[] = "/run/ghostport-bpf-XXXXXX";
	if (!mkdtemp(dir))
		fail("no cgroup2 hierarchy is mounted and none can be mounted: mkdtemp: %s", strerror(errno));
	if (mount("cgroup2", dir, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		int error = errno;
		rmdir(dir);
		fail("no cgroup2 hierarchy is mounted and none can be mounted: %s", strerror(error));
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int error = errno;
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (fd < 0)
		fail("cannot open the cgroup2 root: %s", strerror(error));
	return fd;
}

/* Prints the kernel's counts when they changed; returns whether it did. */
static int print_stats(int map, __u64 *lost_before, __u64 *coalesced_before)
{
	int cpus = libbpf_num_possible_cpus();
	if (cpus <= 0 || cpus > 4096)
		return 0;
	__u64 values[4096], totals[COUNTERS] = { 0 };
	for (__u32 key = 0; key < COUNTERS; key++) {
		if (bpf_map_lookup_elem(map, &key, values) != 0)
			return 0;
		for (int cpu = 0; cpu < cpus; cpu++)
			totals[key] += values[cpu];
	}
	if (totals[COUNTER_LOST] == *lost_before && totals[COUNTER_COALESCED] == *coalesced_before)
		return 0;
	*lost_before = totals[COUNTER_LOST];
	*coalesced_before = totals[COUNTER_COALESCED];
	printf("stat %llu %llu\n", (unsigned long long)*lost_before, (unsigned long long)*coalesced_before);
	return 1;
}

int main(int argc, char **argv)
{
	/* Dies with the parent; checked after, in case the parent died first. */
	pid_t parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return 1;
	signal(SIGPIPE, SIG_DFL);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	__u16 wanted[MAX_PORTS];
	int n = parse_ports(argv + 1, argc - 1, wanted);
	if (n < 0)
		fail("usage: ghostport-bpf PORT... (1 to %d ports, each 1-65535)", MAX_PORTS);

	libbpf_set_print(quiet_libbpf);
	struct ghostport_bpf *skel = ghostport_bpf__open_and_load();
	if (!skel)
		fail("cannot load the BPF programs (needs root: CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): %s", strerror(errno));
	if (set_ports(bpf_map__fd(skel->maps.ports), wanted, n) != 0)
		fail("cannot fill the port map: %s", strerror(errno));

	int cgroup = open_cgroup_root();
	struct bpf_program *programs[] = { skel->progs.send4, skel->progs.send6, skel->progs.connect4, skel->progs.connect6, skel->progs.bind4, skel->progs.bind6, skel->progs.release };
	struct bpf_link **links[] = { &skel->links.send4, &skel->links.send6, &skel->links.connect4, &skel->links.connect6, &skel->links.bind4, &skel->links.bind6, &skel->links.release };
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		*links[i] = bpf_program__attach_cgroup(programs[i], cgroup);
		if (!*links[i])
			fail("cannot attach %s to the root cgroup: %s", bpf_program__name(programs[i]), strerror(errno));
	}
	close(cgroup);

	struct ring_buffer *ring = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!ring)
		fail("cannot open the ring buffer: %s", strerror(errno));
	puts("ready");
	fflush(stdout);

	struct pollfd fds[2] = { { .fd = ring_buffer__epoll_fd(ring), .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
	char input[1024];
	size_t used = 0;
	__u64 lost = 0, coalesced = 0;
	struct timespec last_stat = { 0, 0 };
	/*
	 * Counts kept in the kernel (lost events, repeats) are told at a wake-up, at most once a second.
	 * While events come, it wakes each second so that they are told within one; once a second
	 * passed quietly, every 10 s: each wake-up costs CPU on an idle host (0.1 ms here, 0.01 % of
	 * a core at one a second), and a full ring buffer, the cause of lost events, wakes it anyway.
	 */
	int timeout = 1000;
	for (;;) {
		if (poll(fds, 2, timeout) < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		int consumed = ring_buffer__consume(ring);
		if (consumed < 0 && errno != EINTR)
			fail("reading the ring buffer: %s", strerror(errno));
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t got = read(STDIN_FILENO, input + used, sizeof(input) - 1 - used);
			if (got <= 0)
				break;
			used += (size_t)got;
			char *newline;
			while ((newline = memchr(input, '\n', used))) {
				*newline = '\0';
				char *words[MAX_PORTS + 2];
				int count = 0;
				for (char *word = strtok(input, " "); word && count < MAX_PORTS + 2; word = strtok(NULL, " "))
					words[count++] = word;
				if (count < 1 || strcmp(words[0], "ports") != 0 || (n = parse_ports(words + 1, count - 1, wanted)) < 0)
					fail("bad request: expected \"ports PORT...\"");
				if (set_ports(bpf_map__fd(skel->maps.ports), wanted, n) != 0)
					fail("cannot update the port map: %s", strerror(errno));
				size_t rest = used - (size_t)(newline + 1 - input);
				memmove(input, newline + 1, rest);
				used = rest;
			}
			if (used == sizeof(input) - 1)
				fail("bad request: line too long");
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int told = 0;
		if (now.tv_sec != last_stat.tv_sec) {
			last_stat = now;
			told = print_stats(bpf_map__fd(skel->maps.counters), &lost, &coalesced);
		}
		timeout = consumed > 0 || told ? 1000 : 10000;
		fflush(stdout);
	}
	ring_buffer__free(ring);
	ghostport_bpf__destroy(skel);
	return 0;
}
