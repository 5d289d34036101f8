/*
 * ghostport-diag: a persistent socket probe for Ghostport's Linux poll.
 *
 * Reads one request per line on stdin: the watched ports, comma-separated ("596,8080"). For each
 * request it dumps TCP and UDP sockets of both families over one NETLINK_SOCK_DIAG socket kept
 * open for its whole life, and writes one line per socket whose local or remote port is watched:
 *
 *   <tcp|udp> <4|6> <STATE> <local-addr> <local-port> <remote-addr|*> <remote-port|*> <inode> <uid>
 *
 * (STATE: netstat's names, BOUND for a TCP socket only bound, UNCONN for unconnected UDP), then
 * `END <n>` (n = rows written). A request may name a network namespace after the ports
 * ("596 /run/netns/NAME", or "596 /proc/PID/ns/net": that process's): the helper enters it (setns) just long enough to open a netlink
 * socket there (a socket stays in the namespace it was made in), dumps through that socket and
 * closes it; its own socket is untouched. Needs CAP_SYS_ADMIN. Any failure of a request prints `ERR <message>` instead of
 * END, and the helper keeps running. It exits on end of stdin.
 *
 * The kernel filters by port with inet_diag bytecode (the same S_GE/S_LE/D_GE/D_LE ops ss(8)
 * has used since Linux 2.6), so the dump carries only the sockets on watched ports; every row is
 * checked again here, so the bytecode can only save work, never add rows. If the kernel refuses
 * the bytecode, the helper dumps unfiltered from then on. `--no-bytecode` forces that (tests).
 *
 * TCP goes through the older TCPDIAG_GETSOCK request, whose dump covers IPv4 and IPv6 in ONE walk
 * of the kernel's TCP table (SOCK_DIAG_BY_FAMILY walks it once per family, and that walk is
 * nearly all of a probe's cost: every slot of the table, whatever the filter). If the kernel
 * refuses it, TCP is dumped per family from then on. `--no-compat` forces that (tests).
 *
 * Two more requests describe one process's own sockets, for the evidence's "talking to" summary:
 *
 *   fds <pid> <fd>:<inode>,...   each of those descriptors of that process, taken with
 *                                pidfd_getfd(2) (Linux 5.6; needs ptrace rights over the
 *                                process: root) and asked getsockname/getpeername/TCP_INFO;
 *                                one syscall-sized cost per socket, whatever the host's tables
 *                                hold and whichever namespace the process is in. A descriptor
 *                                whose socket is no longer that inode (closed, reused) is left
 *                                out; the copies are closed at once.
 *   inodes <inode>,...           one unfiltered dump of our own namespace's TCP and UDP tables,
 *                                rows with those inodes only (the fallback where pidfd_getfd is
 *                                refused; the kernel has no inode filter, so this walks every
 *                                socket, still several times cheaper than /proc/PID/net/tcp).
 *
 * Both answer in the row format above, then END, or ERR. One more answers about the other end of
 * a Unix socket that a process (the service: our parent) accepted:
 *
 *   peercred <pid> <fd>:<inode>  that descriptor of that process, copied with pidfd_getfd(2) and
 *                                asked SO_PEERCRED: one row `<pid> <uid> <gid>` of the client as
 *                                the kernel recorded it at connect(2) (pid 0: in a PID namespace
 *                                we cannot see), then END 1. ERR when the descriptor is no longer
 *                                a Unix socket with that inode (closed, reused) or the copy is
 *                                refused (not root); the copy is closed at once.
 *
 * C99, libc and Linux headers only. Build: cc -O2 -Wall -o ghostport-diag ghostport-diag.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_PORTS 64
#define RECV_BUF (64 * 1024)
#define MAX_INODES 1024
/*
 * Every TCP state, TCP_BOUND_INACTIVE (13, Linux 6.7+) included: a socket bound to a port but
 * neither listening nor connecting holds that port (nobody else can bind it), and no other source
 * lists it (/proc/net/tcp; ss only where it knows the state). Asking for it makes the kernel walk the bind
 * hash too, every bound socket of the namespace a second time (the idle bench times the dump with
 * and without it, `--no-bound-inactive`). The kernel reports such a socket as TCP_CLOSE: a closed
 * socket is in no other table it walks, so a TCP row in CLOSE with a local port and a file is one
 * that is only bound, named BOUND here. Kernels before 6.7 ignore the bit: the kernel tests only
 * the state bits it knows (bits 14-31 of this mask, set here as always, are known to none), so
 * they answer as before, without those sockets.
 */
#define TCPF_BOUND_INACTIVE_ (1u << 13)
static unsigned states_wanted = 0xffffffffu;

static int nl_fd = -1;
static const char *target_ns = NULL; /* the namespace of the request being answered, NULL: our own */
static int home_ns = -1;
static uint32_t nl_seq = 0;
static int use_bytecode = 1;
static int use_compat = 1;
static unsigned char recv_buf[RECV_BUF] __attribute__((aligned(8)));

static const char *tcp_state_name(unsigned state) {
  switch (state) {
  case 1: return "ESTABLISHED";
  case 2: return "SYN_SENT";
  case 3: return "SYN_RECV";
  case 4: return "FIN_WAIT1";
  case 5: return "FIN_WAIT2";
  case 6: return "TIME_WAIT";
  case 7: return "CLOSE";
  case 8: return "CLOSE_WAIT";
  case 9: return "LAST_ACK";
  case 10: return "LISTEN";
  case 11: return "CLOSING";
  case 12: return "SYN_RECV"; /* TCP_NEW_SYN_RECV: a request socket, shown by ss as SYN-RECV */
  default: return "UNKNOWN";
  }
}

/*
 * A TCP state as a row names it: CLOSE with a local port and a file (inode) is a socket only bound
 * (see above); without a file it is one being torn down after its close, a leftover (CLOSE).
 */
static const char *tcp_row_state(unsigned state, unsigned short sport, unsigned long inode) {
  return state == 7 && sport != 0 && inode != 0 ? "BOUND" : tcp_state_name(state);
}

static int open_netlink(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct sockaddr_nl local;
  memset(&local, 0, sizeof local);
  local.nl_family = AF_NETLINK;
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Appends a port comparison: op + the port in the second op's `no`. */
static void put_cmp(struct inet_diag_bc_op *ops, int *n, unsigned char code, unsigned short no, unsigned short port) {
  ops[*n].code = code;
  ops[*n].yes = 8;
  ops[*n].no = no;
  ops[*n + 1].code = INET_DIAG_BC_NOP;
  ops[*n + 1].yes = 0;
  ops[*n + 1].no = port;
  *n += 2;
}

/*
 * Bytecode accepting a socket whose sport or dport equals any watched port. Each condition is a
 * block of five ops (20 bytes): GE port, LE port, JMP to the end (accept). A failed comparison
 * jumps to the next block; in the last block, 4 bytes past the end (reject). The kernel accepts
 * a socket when the program runs off exactly its end.
 */
static int build_bytecode(const unsigned short *ports, int nports, struct inet_diag_bc_op *ops) {
  int blocks = nports * 2;
  int total = blocks * 20;
  int n = 0;
  for (int b = 0; b < blocks; b++) {
    unsigned short port = ports[b / 2];
    int source = (b % 2) == 0;
    int last = b == blocks - 1;
    int start = b * 20;
    int fail = last ? total + 4 : start + 20; /* absolute offset on failure */
    put_cmp(ops, &n, source ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE, (unsigned short)(fail - start), port);
    put_cmp(ops, &n, source ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE, (unsigned short)(fail - (start + 8)), port);
    ops[n].code = INET_DIAG_BC_JMP;
    ops[n].yes = 4;
    ops[n].no = (unsigned short)(total - (start + 16)); /* to the very end: accept */
    n++;
  }
  return n * (int)sizeof(struct inet_diag_bc_op);
}

static int watched(unsigned short port, const unsigned short *ports, int nports) {
  for (int i = 0; i < nports; i++)
    if (ports[i] == port) return 1;
  return 0;
}

/* Text of an address; IPv4-mapped IPv6 as dotted IPv4. */
static void format_addr(int family, const uint32_t *raw, char *out, size_t size) {
  if (family == AF_INET) {
    inet_ntop(AF_INET, raw, out, (socklen_t)size);
    return;
  }
  struct in6_addr a;
  memcpy(&a, raw, sizeof a);
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    inet_ntop(AF_INET, &a.s6_addr[12], out, (socklen_t)size);
    return;
  }
  inet_ntop(AF_INET6, &a, out, (socklen_t)size);
}

/* What a dump keeps: sockets on watched ports, or (nports 0) sockets with one of these inodes. */
struct want {
  const unsigned short *ports;
  int nports;
  const uint32_t *inodes;
  int ninodes;
};

static int wanted(const struct want *w, unsigned short sport, unsigned short dport, uint32_t inode) {
  if (w->nports == 0) {
    for (int i = 0; i < w->ninodes; i++)
      if (w->inodes[i] == inode) return 1;
    return 0;
  }
  return watched(sport, w->ports, w->nports) || (dport != 0 && watched(dport, w->ports, w->nports));
}

/* One row of an answer (the format at the top). */
static void print_row(FILE *out, const char *proto, int f, const char *state, const uint32_t *src, unsigned short sport, const uint32_t *dst,
                      unsigned short dport, unsigned long inode, unsigned uid) {
  char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
  format_addr(f, src, local, sizeof local);
  if (dport == 0) {
    fprintf(out, "%s %s %s %s %u * * %lu %u\n", proto, f == AF_INET6 ? "6" : "4", state, local, sport, inode, uid);
  } else {
    format_addr(f, dst, remote, sizeof remote);
    fprintf(out, "%s %s %s %s %u %s %u %lu %u\n", proto, f == AF_INET6 ? "6" : "4", state, local, sport, remote, dport, inode, uid);
  }
}

/*
 * One dump of one family and protocol; family 0 means TCP of both families through the older
 * TCPDIAG_GETSOCK request (see the top). Returns 0 and adds to *rows, or -1 with *err set.
 */
static int dump(FILE *out, int family, int protocol, const struct want *w, int *rows, int *code, char *err, size_t errsize) {
  const int compat = family == 0;
  union {
    struct nlmsghdr nlh;
    unsigned char bytes[NLMSG_SPACE(sizeof(struct inet_diag_req)) + RTA_SPACE(sizeof(struct inet_diag_bc_op) * MAX_PORTS * 2 * 5)];
  } msg;
  memset(&msg, 0, sizeof msg);
  size_t len = NLMSG_LENGTH(compat ? sizeof(struct inet_diag_req) : sizeof(struct inet_diag_req_v2));
  if (compat) {
    struct inet_diag_req *req = NLMSG_DATA(&msg.nlh);
    req->idiag_states = states_wanted;
  } else {
    struct inet_diag_req_v2 *req = NLMSG_DATA(&msg.nlh);
    req->sdiag_family = (unsigned char)family;
    req->sdiag_protocol = (unsigned char)protocol;
    req->idiag_states = states_wanted;
  }
  if (use_bytecode && w->nports > 0) {
    /* The filter attribute follows the request, whichever of the two it is. */
    struct rtattr *rta = (struct rtattr *)(msg.bytes + NLMSG_ALIGN(len));
    int bclen = build_bytecode(w->ports, w->nports, (struct inet_diag_bc_op *)RTA_DATA(rta));
    rta->rta_type = INET_DIAG_REQ_BYTECODE;
    rta->rta_len = (unsigned short)RTA_LENGTH(bclen);
    len = NLMSG_ALIGN(len) + RTA_SPACE(bclen);
  }
  msg.nlh.nlmsg_len = (uint32_t)len;
  msg.nlh.nlmsg_type = compat ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.nlh.nlmsg_seq = ++nl_seq;

  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do sent = sendto(nl_fd, &msg, len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    *code = errno;
    snprintf(err, errsize, "netlink send: %s", strerror(*code));
    return -1;
  }

  const char *proto = protocol == IPPROTO_TCP ? "tcp" : "udp";
  const char *fam = compat ? "" : family == AF_INET ? "4" : "6";
  for (;;) {
    ssize_t got = recv(nl_fd, recv_buf, sizeof recv_buf, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      *code = errno;
      snprintf(err, errsize, "netlink recv: %s", strerror(*code));
      return -1;
    }
    if (got == 0) {
      *code = EIO;
      snprintf(err, errsize, "netlink recv: connection closed");
      return -1;
    }
    size_t left = (size_t)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)recv_buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != nl_seq) continue; /* a stale answer to an earlier request */
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        *code = h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) ? -e->error : EIO;
        if (*code == 0) continue; /* an ack */
        snprintf(err, errsize, "netlink %s%s dump: %s", proto, fam, strerror(*code));
        return -1;
      }
      if (h->nlmsg_type != (compat ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY)) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      const struct inet_diag_msg *m = NLMSG_DATA(h);
      unsigned short sport = ntohs(m->id.idiag_sport);
      unsigned short dport = ntohs(m->id.idiag_dport);
      if (!wanted(w, sport, dport, m->idiag_inode)) continue;
      int f = m->idiag_family == AF_INET6 ? AF_INET6 : AF_INET;
      const char *state;
      if (protocol == IPPROTO_UDP) state = m->idiag_state == 1 ? "ESTABLISHED" : "UNCONN";
      else state = tcp_row_state(m->idiag_state, sport, m->idiag_inode);
      print_row(out, proto, f, state, m->id.idiag_src, sport, m->id.idiag_dst, dport, m->idiag_inode, m->idiag_uid);
      (*rows)++;
    }
  }
}

/* Parses "596,8080" into ports; returns the count, or -1 when the line is not a port list. */
static int parse_ports(char *line, unsigned short *ports) {
  int n = 0;
  char *p = line;
  while (*p) {
    if (*p < '0' || *p > '9') return -1;
    long v = 0;
    while (*p >= '0' && *p <= '9') {
      v = v * 10 + (*p - '0');
      if (v > 65535) return -1;
      p++;
    }
    if (v < 1 || n >= MAX_PORTS) return -1;
    ports[n++] = (unsigned short)v;
    if (*p == ',') {
      p++;
      if (*p == '\0') return -1;
    } else if (*p != '\0') {
      return -1;
    }
  }
  return n;
}

/* True for exactly "/proc/<pid>/ns/net". */
static int proc_netns_link(const char *p) {
  if (strncmp(p, "/proc/", 6) != 0) return 0;
  p += 6;
  if (*p < '1' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') p++;
  return strcmp(p, "/ns/net") == 0;
}

/* A netlink socket in the request's namespace: enter it, open, come straight back. */
static int open_netlink_here(void) {
  if (!target_ns) return open_netlink();
  if (home_ns < 0 && (home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) return -1;
  /* /proc/PID/ns/net is a link the kernel resolves to the namespace itself; other paths are not
     followed (setns refuses whatever is not a network namespace either way). */
  int ns = open(target_ns, O_RDONLY | O_CLOEXEC | (proc_netns_link(target_ns) ? 0 : O_NOFOLLOW));
  if (ns < 0) return -1;
  if (setns(ns, CLONE_NEWNET) < 0) {
    int e = errno;
    close(ns);
    errno = e;
    return -1;
  }
  close(ns);
  int fd = open_netlink();
  int e = errno;
  /* Never answer a later request from the wrong namespace. */
  if (setns(home_ns, CLONE_NEWNET) < 0) _exit(3);
  errno = e;
  return fd;
}

/* Parses "N,N,..." (each min..max) into out; returns the count, or -1. */
static int parse_numbers(const char *p, unsigned long min, unsigned long max, unsigned long *out, int cap) {
  int n = 0;
  while (*p) {
    if (*p < '0' || *p > '9' || n >= cap) return -1;
    unsigned long v = 0;
    while (*p >= '0' && *p <= '9') {
      v = v * 10 + (unsigned long)(*p - '0');
      if (v > max) return -1;
      p++;
    }
    if (v < min) return -1;
    out[n++] = v;
    if (*p == ',' && p[1] != '\0') p++;
    else if (*p != '\0') return -1;
  }
  return n;
}

/*
 * "fds <pid> <fd>:<inode>,...": the process's own sockets through copies of its descriptors.
 * Rows are collected first, as for a dump: every row and END, or ERR alone.
 */
static void answer_fds(char *args) {
  char *list = strchr(args, ' ');
  unsigned long pid = 0;
  if (list) *list++ = '\0';
  static unsigned long pairs[MAX_INODES * 2];
  int n = 0;
  if (list && parse_numbers(args, 1, 4194304, &pid, 1) == 1) {
    /* fd:inode pairs: read as one list of numbers with ':' taken for ','. */
    for (char *c = list; *c; c++)
      if (*c == ':') *c = ',';
    n = parse_numbers(list, 0, 4294967295ul, pairs, MAX_INODES * 2);
  }
  if (n <= 0 || n % 2 != 0) {
    printf("ERR bad request: expected fds <pid> <fd>:<inode>,... (at most %d)\n", MAX_INODES);
    return;
  }
  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (pidfd < 0) {
    printf("ERR pidfd_open %lu: %s\n", pid, strerror(errno));
    return;
  }
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  int rows = 0;
  int error = 0;
  for (int i = 0; out && i < n && !error; i += 2) {
    int s = (int)syscall(SYS_pidfd_getfd, pidfd, (int)pairs[i], 0);
    if (s < 0) {
      if (errno != EBADF) error = errno; /* EBADF: closed since it was listed */
      continue;
    }
    struct stat st;
    int domain = 0, protocol = 0, listening = 0;
    socklen_t l1 = sizeof domain, l2 = sizeof protocol, l3 = sizeof listening;
    struct sockaddr_storage local, remote;
    socklen_t llen = sizeof local, rlen = sizeof remote;
    memset(&remote, 0, sizeof remote);
    /* Only the socket that was listed (not a descriptor reused since), inet, TCP or UDP, bound. */
    int ok = fstat(s, &st) == 0 && S_ISSOCK(st.st_mode) && (unsigned long)st.st_ino == pairs[i + 1] &&
             getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &l1) == 0 && (domain == AF_INET || domain == AF_INET6) &&
             getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &protocol, &l2) == 0 && (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP) &&
             getsockname(s, (struct sockaddr *)&local, &llen) == 0;
    int connected = ok && getpeername(s, (struct sockaddr *)&remote, &rlen) == 0;
    const char *state = NULL;
    if (ok && protocol == IPPROTO_TCP) {
      struct tcp_info info;
      socklen_t ilen = sizeof info;
      state = getsockopt(s, IPPROTO_TCP, TCP_INFO, &info, &ilen) == 0 ? tcp_row_state(info.tcpi_state, ntohs(((const struct sockaddr_in *)&local)->sin_port) /* sin6_port sits there too */, (unsigned long)st.st_ino)
              : getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l3) == 0 && listening ? "LISTEN"
              : connected ? "ESTABLISHED" : "CLOSE";
    } else if (ok) {
      state = connected ? "ESTABLISHED" : "UNCONN";
    }
    close(s);
    if (!ok) continue;
    uint32_t src[4] = {0}, dst[4] = {0};
    unsigned short sport, dport = 0;
    if (domain == AF_INET) {
      const struct sockaddr_in *a = (const struct sockaddr_in *)&local;
      memcpy(src, &a->sin_addr, 4);
      sport = ntohs(a->sin_port);
      if (connected) {
        memcpy(dst, &((const struct sockaddr_in *)&remote)->sin_addr, 4);
        dport = ntohs(((const struct sockaddr_in *)&remote)->sin_port);
      }
    } else {
      const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&local;
      memcpy(src, &a->sin6_addr, 16);
      sport = ntohs(a->sin6_port);
      if (connected) {
        memcpy(dst, &((const struct sockaddr_in6 *)&remote)->sin6_addr, 16);
        dport = ntohs(((const struct sockaddr_in6 *)&remote)->sin6_port);
      }
    }
    if (sport == 0) continue; /* not bound: no endpoint to name */
    print_row(out, protocol == IPPROTO_TCP ? "tcp" : "udp", domain, state, src, sport, dst, dport, (unsigned long)st.st_ino, (unsigned)st.st_uid);
    rows++;
  }
  close(pidfd);
  if (out) fclose(out);
  if (!out || error) {
    printf("ERR pidfd_getfd %lu: %s\n", pid, out ? strerror(error) : "out of memory");
  } else {
    fwrite(text, 1, size, stdout);
    printf("END %d\n", rows);
  }
  free(text);
}

/* "peercred <pid> <fd>:<inode>": who is at the other end of that process's Unix socket. */
static void answer_peercred(char *args) {
  unsigned long v[3] = {0};
  for (char *c = args; *c; c++)
    if (*c == ' ' || *c == ':') *c = ',';
  if (parse_numbers(args, 0, 4294967295ul, v, 3) != 3 || v[0] < 1 || v[0] > 4194304 || v[1] > 0x7fffffff || v[2] < 1) {
    printf("ERR bad request: expected peercred <pid> <fd>:<inode>\n");
    return;
  }
  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)v[0], 0);
  if (pidfd < 0) {
    printf("ERR pidfd_open %lu: %s\n", v[0], strerror(errno));
    return;
  }
  int s = (int)syscall(SYS_pidfd_getfd, pidfd, (int)v[1], 0);
  int e = errno;
  close(pidfd);
  if (s < 0) {
    printf("ERR pidfd_getfd %lu: %s\n", v[0], strerror(e));
    return;
  }
  struct stat st;
  struct ucred cred;
  int domain = 0;
  socklen_t dlen = sizeof domain, clen = sizeof cred;
  /* Only the socket that was named (not a descriptor reused since), and only a Unix one. */
  int same = fstat(s, &st) == 0 && S_ISSOCK(st.st_mode) && (unsigned long)st.st_ino == v[2] &&
             getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == 0 && domain == AF_UNIX;
  int ok = same && getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0;
  e = errno;
  close(s);
  if (!same) printf("ERR descriptor %lu is no longer the Unix socket %lu\n", v[1], v[2]);
  else if (!ok) printf("ERR SO_PEERCRED: %s\n", strerror(e));
  else printf("%d %u %u\nEND 1\n", (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
}

static void answer_dump(const struct want *w);

static void answer_inodes(char *args) {
  static unsigned long numbers[MAX_INODES];
  static uint32_t inodes[MAX_INODES];
  int n = parse_numbers(args, 1, 4294967295ul, numbers, MAX_INODES);
  if (n <= 0) {
    printf("ERR bad request: expected inodes <inode>,... (at most %d)\n", MAX_INODES);
    return;
  }
  for (int i = 0; i < n; i++) inodes[i] = (uint32_t)numbers[i];
  struct want w = {NULL, 0, inodes, n};
  answer_dump(&w);
}

/* The requests named by a word (the rest are port lists); their arguments have their own spaces. */
static const struct {
  const char *word;
  void (*answer)(char *args);
} NAMED[] = {{"fds ", answer_fds}, {"inodes ", answer_inodes}, {"peercred ", answer_peercred}};

static int named(const char *line) {
  for (int i = 0; i < (int)(sizeof NAMED / sizeof NAMED[0]); i++)
    if (strncmp(line, NAMED[i].word, strlen(NAMED[i].word)) == 0) return i;
  return -1;
}

static void answer(char *line) {
  int i = named(line);
  if (i >= 0) {
    NAMED[i].answer(line + strlen(NAMED[i].word));
    return;
  }
  unsigned short ports[MAX_PORTS];
  int nports = parse_ports(line, ports);
  if (nports <= 0) {
    printf("ERR bad request: expected comma-separated ports (1-65535, at most %d)\n", MAX_PORTS);
    return;
  }
  struct want w = {ports, nports, NULL, 0};
  answer_dump(&w);
}

static void answer_dump(const struct want *w) {
  if (nl_fd < 0 && (nl_fd = open_netlink_here()) < 0) {
    printf("ERR netlink socket%s%s: %s\n", target_ns ? " in " : "", target_ns ? target_ns : "", strerror(errno));
    return;
  }
  static const int families[2] = {AF_INET, AF_INET6};
  static const int protocols[2] = {IPPROTO_TCP, IPPROTO_UDP};
  /* Rows are collected first: an answer is either every row and END, or ERR alone. */
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  if (!out) {
    printf("ERR out of memory\n");
    return;
  }
  int rows = 0;
  int code = 0;
  char err[256];
  int failed = 0;
  int tcp_compat_failed = 0;
  if (use_compat) {
    failed = dump(out, 0, IPPROTO_TCP, w, &rows, &code, err, sizeof err) != 0;
    tcp_compat_failed = failed;
    for (int i = 0; i < 2 && !failed; i++)
      failed = dump(out, families[i], IPPROTO_UDP, w, &rows, &code, err, sizeof err) != 0;
  } else {
    for (int i = 0; i < 4 && !failed; i++)
      failed = dump(out, families[i / 2], protocols[i % 2], w, &rows, &code, err, sizeof err) != 0;
  }
  fclose(out);
  if (!failed) {
    fwrite(text, 1, size, stdout);
    printf("END %d\n", rows);
    free(text);
    return;
  }
  free(text);
  /* The socket may hold the rest of a broken dump: start afresh next time. */
  close(nl_fd);
  nl_fd = -1;
  if (tcp_compat_failed && (code == EINVAL || code == ENOENT || code == EOPNOTSUPP)) {
    /* The kernel does not take the older request: one TCP dump per family from now on. */
    use_compat = 0;
    answer_dump(w);
    return;
  }
  if (use_bytecode && code == EINVAL) {
    /* The kernel refused the filter: dump unfiltered from now on, and answer this request so. */
    use_bytecode = 0;
    answer_dump(w);
    return;
  }
  printf("ERR %s\n", err);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-bytecode") == 0) use_bytecode = 0;
    else if (strcmp(argv[i], "--no-compat") == 0) use_compat = 0;
    else if (strcmp(argv[i], "--no-bound-inactive") == 0) states_wanted &= ~TCPF_BOUND_INACTIVE_;
    else {
      fprintf(stderr, "usage: %s [--no-bytecode] [--no-compat] [--no-bound-inactive]\n", argv[0]);
      return 2;
    }
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = '\0';
    /* A port request may name a namespace after a space; the process requests have their own spaces. */
    char *path = named(line) >= 0 ? NULL : strchr(line, ' ');
    if (path) {
      *path++ = '\0';
      int own = nl_fd;
      nl_fd = -1;
      target_ns = path;
      answer(line);
      if (nl_fd >= 0) close(nl_fd);
      nl_fd = own;
      target_ns = NULL;
    } else {
      answer(line);
    }
    fflush(stdout);
  }
  free(line);
  if (nl_fd >= 0) close(nl_fd);
  return 0;
}
