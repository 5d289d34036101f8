/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * What ghostport-bpf.bpf.c (the kernel side) hands ghostport-bpf.c (the helper) through its ring
 * buffer. Both include this; each brings its own __u8..__u64 (vmlinux.h, linux/types.h).
 */
#ifndef GHOSTPORT_BPF_H
#define GHOSTPORT_BPF_H

/* Most watched ports (the settings allow as many). */
#define MAX_PORTS 64

enum kind { KIND_SEND = 1, KIND_CONNECT = 2, KIND_BIND = 3, KIND_CLOSE = 4 };
enum counter { COUNTER_LOST = 0, COUNTER_COALESCED = 1, COUNTERS = 2 };

/* One event. Addresses and ports in network byte order; a field the socket lacks yet is 0. */
struct event {
	__u64 ns;           /* bpf_ktime_get_ns() at the event */
	__u64 netns_cookie; /* unique for the boot, unlike the inode */
	__u64 sock_cookie;
	__u32 pid;          /* thread group id, in the first PID namespace */
	__u32 netns_inode;  /* of the socket's own namespace */
	__u32 local[4];
	__u32 remote[4];
	__u16 local_port;
	__u16 remote_port;
	__u8 kind;          /* enum kind */
	__u8 family;        /* AF_INET or AF_INET6 */
	__u8 protocol;      /* IPPROTO_UDP, or IPPROTO_TCP (bind and close only) */
	__u8 pad;
	char comm[16];
};

#endif
