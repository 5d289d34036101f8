/*
 * Test program for tests/node/uring-events.test.ts: touches port 596 through io_uring only (raw
 * io_uring_setup/io_uring_enter, no liburing), so no send, connect, bind or listen system call
 * is made for the watched operation. Each socket lives a few milliseconds (the listener 50 ms),
 * then the process stays 300 ms (its owner is read from /proc at the event) and exits 0.
 *
 *   uring-596 OP FAMILY WHERE
 *   OP:     sendmsg (UDP, unconnected, IORING_OP_SENDMSG with a destination)
 *           send-zc (UDP, unconnected, IORING_OP_SEND_ZC with a destination, kernel 6.0+)
 *           connect (TCP, IORING_OP_CONNECT; refused is fine, it goes SYN_SENT first)
 *           listen  (TCP, IORING_OP_BIND + IORING_OP_LISTEN, kernel 6.11+; lives 50 ms)
 *           bind    (TCP, IORING_OP_BIND only, kernel 6.11+; lives 50 ms)
 *           udp-connect (UDP, IORING_OP_CONNECT)
 *           udp-bind    (UDP, IORING_OP_BIND, kernel 6.11+; lives 50 ms)
 *   FAMILY: 4 (127.0.0.1) or 6 (::1)
 *   WHERE:  inline (in io_uring_enter), async (IOSQE_ASYNC: an io-wq worker thread),
 *           sqpoll (IORING_SETUP_SQPOLL: the ring's kernel polling thread submits)
 *
 * Exit 0 done, 77 the kernel does not know the operation (the test skips it), 1 any failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's headers are 6.1's; the kernel numbers are fixed (include/uapi/linux/io_uring.h). */
#define OP_BIND 56
#define OP_LISTEN 57

struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *sq_flags, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	int sqpoll;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "uring-596: %s: %s\n", what, strerror(err));
	exit(1);
}

/* Exits 77 when the kernel does not know `opcode` (IORING_REGISTER_PROBE). */
static void require(int fd, unsigned opcode, const char *name)
{
	struct {
		struct io_uring_probe probe;
		struct io_uring_probe_op ops[256];
	} p = {0};
	if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_PROBE, &p, 256) < 0) die("IORING_REGISTER_PROBE", errno);
	if (opcode > p.probe.last_op || !(p.ops[opcode].flags & IO_URING_OP_SUPPORTED)) {
		fprintf(stderr, "uring-596: this kernel has no %s\n", name);
		exit(77);
	}
}

static void ring_open(struct ring *r, int sqpoll)
{
	struct io_uring_params p = {0};
	if (sqpoll) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 1000;
	}
	r->fd = syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0) die("io_uring_setup", errno);
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) die("io_uring_setup (no single mmap)", ENOSYS);
	size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	size_t size = sq_size > cq_size ? sq_size : cq_size;
	char *sq = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || r->sqes == MAP_FAILED) die("mmap", errno);
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->sq_flags = (unsigned *)(sq + p.sq_off.flags);
	r->cq_head = (unsigned *)(sq + p.cq_off.head);
	r->cq_tail = (unsigned *)(sq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(sq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);
	r->sqpoll = sqpoll;
}

/* Submits one prepared entry and waits for its completion (and a zero-copy send's notification); returns its result. */
static int ring_run(struct ring *r, const struct io_uring_sqe *entry)
{
	unsigned tail = *r->sq_tail, index = tail & *r->sq_mask;
	r->sqes[index] = *entry;
	r->sq_array[index] = index;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	unsigned flags = IORING_ENTER_GETEVENTS, submit = 1;
	if (r->sqpoll) {
		submit = 0;
		if (__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP) flags |= IORING_ENTER_SQ_WAKEUP;
	}
	int result = 0, more = 1;
	while (more) {
		if (syscall(__NR_io_uring_enter, r->fd, submit, 1, flags, NULL, 0) < 0 && errno != EINTR) die("io_uring_enter", errno);
		submit = 0;
		unsigned head = *r->cq_head;
		while (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
			struct io_uring_cqe *c = &r->cqes[head & *r->cq_mask];
			if (c->flags & IORING_CQE_F_NOTIF) more = 0;
			else {
				result = c->res;
				more = (c->flags & IORING_CQE_F_MORE) != 0;
			}
			head++;
		}
		__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
	}
	return result;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: uring-596 sendmsg|send-zc|connect|listen|bind|udp-connect|udp-bind 4|6 inline|async|sqpoll\n");
		return 1;
	}
	const char *op = argv[1];
	int six = strcmp(argv[2], "6") == 0;
	struct ring r;
	ring_open(&r, strcmp(argv[3], "sqpoll") == 0);
	unsigned char async = strcmp(argv[3], "async") == 0 ? IOSQE_ASYNC : 0;

	struct sockaddr_storage to = {0};
	socklen_t length;
	if (six) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(596);
		a->sin6_addr = in6addr_loopback;
		length = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&to;
		a->sin_family = AF_INET;
		a->sin_port = htons(596);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		length = sizeof *a;
	}
	int udp = strcmp(op, "sendmsg") == 0 || strcmp(op, "send-zc") == 0 || strncmp(op, "udp-", 4) == 0;
	int s = socket(six ? AF_INET6 : AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (s < 0) die("socket", errno);

	char byte = 'x';
	struct iovec iov = {&byte, 1};
	struct msghdr message = {.msg_name = &to, .msg_namelen = length, .msg_iov = &iov, .msg_iovlen = 1};
	struct io_uring_sqe e = {.fd = s, .flags = async};
	int result;
	if (strcmp(op, "sendmsg") == 0) {
		e.opcode = IORING_OP_SENDMSG;
		e.addr = (unsigned long)&message;
		e.len = 1;
		result = ring_run(&r, &e);
		if (result < 0) die("IORING_OP_SENDMSG", -result);
	} else if (strcmp(op, "send-zc") == 0) {
		require(r.fd, IORING_OP_SEND_ZC, "IORING_OP_SEND_ZC");
		e.opcode = IORING_OP_SEND_ZC;
		e.addr = (unsigned long)&byte;
		e.len = 1;
		e.addr2 = (unsigned long)&to;
		e.addr_len = length;
		result = ring_run(&r, &e);
		if (result < 0) die("IORING_OP_SEND_ZC", -result);
	} else if (strcmp(op, "connect") == 0 || strcmp(op, "udp-connect") == 0) {
		e.opcode = IORING_OP_CONNECT;
		e.addr = (unsigned long)&to;
		e.off = length;
		result = ring_run(&r, &e);
		if (result < 0 && result != -ECONNREFUSED) die("IORING_OP_CONNECT", -result);
	} else if (strcmp(op, "listen") == 0 || strcmp(op, "bind") == 0 || strcmp(op, "udp-bind") == 0) {
		require(r.fd, OP_BIND, "IORING_OP_BIND");
		int yes = 1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
		e.opcode = OP_BIND;
		e.addr = (unsigned long)&to;
		e.addr2 = length;
		result = ring_run(&r, &e);
		if (result < 0) die("IORING_OP_BIND", -result);
		if (strcmp(op, "listen") == 0) {
			require(r.fd, OP_LISTEN, "IORING_OP_LISTEN");
			struct io_uring_sqe l = {.fd = s, .flags = async, .opcode = OP_LISTEN, .len = 16};
			result = ring_run(&r, &l);
			if (result < 0) die("IORING_OP_LISTEN", -result);
		}
		usleep(50 * 1000);
	} else {
		fprintf(stderr, "uring-596: unknown operation %s\n", op);
		return 1;
	}
	close(s);
	usleep(300 * 1000);
	return 0;
}
