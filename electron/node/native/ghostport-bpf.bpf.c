// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * Ghostport's eBPF programs: UDP sockets on the watched ports, and TCP sockets bound to them, as
 * the kernel handles them, in every network namespace. cgroup v2 socket hooks, attached at the root cgroup by
 * ghostport-bpf.c; every program only observes (returns 1: the operation proceeds untouched).
 *
 *   sendmsg4/6    a datagram sent with a destination (an unconnected socket's sendto/sendmsg,
 *                 also through io_uring) to a watched port: "send"
 *   connect4/6    a UDP socket connected to a watched port: "connect" (the kernel has not
 *                 chosen its local port yet when the hook runs; "close" carries it)
 *   post_bind4/6  a UDP or TCP socket bound to a watched port, after the bind succeeded: "bind"
 *   sock_release  a socket reported by connect or bind is closed: "close" (a TCP one only while
 *                 it is still just bound: once it listens or connects, tracefs reports it)
 *
 * TCP's other changes are tracefs's (sock/inet_sock_set_state, kernel-events.ts), but a bound TCP
 * socket makes no state change there: it stays TCP_CLOSE until listen() or connect().
 * The ports are filtered here, in the kernel, from a map the helper fills and updates.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "ghostport-bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define TCP_CLOSE_ 7
/* Repeats of one datagram flow (socket, destination) within this are counted, not reported. */
#define REPEAT_NS 1000000000ULL

struct flow {
	__u64 sock_cookie;
	__u32 remote[4];
	__u16 remote_port;
	__u16 pad;
};

/* The watched ports (host byte order), filled by the helper. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PORTS);
	__type(key, __u16);
	__type(value, __u8);
} ports SEC(".maps");

/* Sockets reported by connect or bind, by cookie: their close is reported too. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} tracked SEC(".maps");

/* When each datagram flow was last reported. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow);
	__type(value, __u64);
} recent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline int watched(__u16 port)
{
	return port != 0 && bpf_map_lookup_elem(&ports, &port) != NULL;
}

static __always_inline void count(__u32 which)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &which);
	if (value)
		*value += 1;
}

/* The socket's own network namespace (not the task's: a socket may outlive a setns). */
static __always_inline __u32 netns_inode(const void *sk)
{
	struct sock *s = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock));
	return BPF_CORE_READ(s, __sk_common.skc_net.net, ns.inum);
}

static __always_inline struct event *reserve(__u8 kind, __u8 family)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_LOST);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->kind = kind;
	e->family = family;
	e->protocol = IPPROTO_UDP_;
	return e;
}

/* A sendmsg/connect hook: the destination is the caller's, the local end the socket's. */
static __always_inline int on_address(struct bpf_sock_addr *ctx, __u8 kind, int six)
{
	if (ctx->protocol != IPPROTO_UDP_)
		return 1;
	__u16 remote_port = bpf_ntohs((__u16)ctx->user_port);
	if (!watched(remote_port))
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	if (kind == KIND_SEND) {
		struct flow flow;
		/* Every byte of a key counts, padding too. */
		__builtin_memset(&flow, 0, sizeof(flow));
		flow.sock_cookie = cookie;
		flow.remote_port = remote_port;
		if (six) {
			flow.remote[0] = ctx->user_ip6[0];
			flow.remote[1] = ctx->user_ip6[1];
			flow.remote[2] = ctx->user_ip6[2];
			flow.remote[3] = ctx->user_ip6[3];
		} else {
			flow.remote[0] = ctx->user_ip4;
		}
		__u64 now = bpf_ktime_get_ns();
		__u64 *last = bpf_map_lookup_elem(&recent, &flow);
		if (last && now - *last < REPEAT_NS) {
			count(COUNTER_COALESCED);
			return 1;
		}
		bpf_map_update_elem(&recent, &flow, &now, BPF_ANY);
	} else {
		__u8 one = 1;
		bpf_map_update_elem(&tracked, &cookie, &one, BPF_ANY);
	}
	struct event *e = reserve(kind, six ? AF_INET6 : AF_INET);
	if (!e)
		return 1;
	struct bpf_sock *sk = ctx->sk;
	e->sock_cookie = cookie;
	e->netns_cookie = bpf_get_netns_cookie(ctx);
	e->netns_inode = netns_inode(sk);
	e->remote_port = bpf_htons(remote_port);
	e->local_port = bpf_htons((__u16)sk->src_port);
	if (six) {
		e->remote[0] = ctx->user_ip6[0];
		e->remote[1] = ctx->user_ip6[1];
		e->remote[2] = ctx->user_ip6[2];
		e->remote[3] = ctx->user_ip6[3];
		e->local[0] = sk->src_ip6[0];
		e->local[1] = sk->src_ip6[1];
		e->local[2] = sk->src_ip6[2];
		e->local[3] = sk->src_ip6[3];
	} else {
		e->remote[0] = ctx->user_ip4;
		e->local[0] = sk->src_ip4;
	}
	bpf_ringbuf_submit(e, 0);
	return 1;
}

/* A bind or a release: the socket's own addresses (post_bind may read only its family's source
 * fields from its context, sock_release none: read them from the socket itself). */
static __always_inline int on_socket(struct bpf_sock *ctx, __u8 kind)
{
	__u32 protocol = ctx->protocol;
	if ((protocol != IPPROTO_UDP_ && protocol != IPPROTO_TCP_) || (ctx->family != AF_INET && ctx->family != AF_INET6))
		return 1;
	struct sock *s = bpf_rdonly_cast(ctx, bpf_core_type_id_kernel(struct sock));
	__u16 local_port = BPF_CORE_READ(s, __sk_common.skc_num);
	__u64 cookie = bpf_get_socket_cookie(ctx);
	if (kind == KIND_BIND) {
		if (!watched(local_port))
			return 1;
		__u8 one = 1;
		bpf_map_update_elem(&tracked, &cookie, &one, BPF_ANY);
	} else if (bpf_map_delete_elem(&tracked, &cookie) != 0) {
		return 1;
	} else if (protocol == IPPROTO_TCP_ && BPF_CORE_READ(s, __sk_common.skc_state) != TCP_CLOSE_) {
		/* It listens or connects: tracefs reports its close (the hook runs before tcp_close). */
		return 1;
	}
	struct event *e = reserve(kind, ctx->family);
	if (!e)
		return 1;
	e->protocol = (__u8)protocol;
	e->sock_cookie = cookie;
	e->netns_cookie = bpf_get_netns_cookie(ctx);
	e->netns_inode = BPF_CORE_READ(s, __sk_common.skc_net.net, ns.inum);
	e->local_port = bpf_htons(local_port);
	e->remote_port = BPF_CORE_READ(s, __sk_common.skc_dport);
	if (ctx->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->local, s, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&e->remote, s, __sk_common.skc_v6_daddr);
	} else {
		e->local[0] = BPF_CORE_READ(s, __sk_common.skc_rcv_saddr);
		e->remote[0] = BPF_CORE_READ(s, __sk_common.skc_daddr);
	}
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("cgroup/sendmsg4")
int send4(struct bpf_sock_addr *ctx) { return on_address(ctx, KIND_SEND, 0); }

SEC("cgroup/sendmsg6")
int send6(struct bpf_sock_addr *ctx) { return on_address(ctx, KIND_SEND, 1); }

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx) { return on_address(ctx, KIND_CONNECT, 0); }

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx) { return on_address(ctx, KIND_CONNECT, 1); }

SEC("cgroup/post_bind4")
int bind4(struct bpf_sock *sk) { return on_socket(sk, KIND_BIND); }

SEC("cgroup/post_bind6")
int bind6(struct bpf_sock *sk) { return on_socket(sk, KIND_BIND); }

SEC("cgroup/sock_release")
int release(struct bpf_sock *sk) { return on_socket(sk, KIND_CLOSE); }
