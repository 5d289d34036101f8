/*
 * ghostport-diag: a persistent socket probe for Ghostport's Linux poll.
 *
 * Reads one request per line on stdin: the watched ports, comma-separated ("596,8080"). For each
 * request it dumps TCP and UDP sockets of both families over one NETLINK_SOCK_DIAG socket kept
 * open for its whole life, and writes one line per socket whose local or remote port is watched:
 *
 *   <tcp|udp> <4|6> <STATE> <local-addr> <local-port> <remote-addr|*> <remote-port|*> <inode> <uid>
 *
 * then `END <n>` (n = rows written). A request may name a network namespace after the ports
 * ("596 /run/netns/NAME"): the helper enters it (setns) just long enough to open a netlink
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
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 64
#define RECV_BUF (64 * 1024)

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

/*
 * One dump of one family and protocol; family 0 means TCP of both families through the older
 * TCPDIAG_GETSOCK request (see the top). Returns 0 and adds to *rows, or -1 with *err set.
 */
static int dump(FILE *out, int family, int protocol, const unsigned short *ports, int nports, int *rows, int *code, char *err, size_t errsize) {
  const int compat = family == 0;
  union {
    struct nlmsghdr nlh;
    unsigned char bytes[NLMSG_SPACE(sizeof(struct inet_diag_req)) + RTA_SPACE(sizeof(struct inet_diag_bc_op) * MAX_PORTS * 2 * 5)];
  } msg;
  memset(&msg, 0, sizeof msg);
  size_t len = NLMSG_LENGTH(compat ? sizeof(struct inet_diag_req) : sizeof(struct inet_diag_req_v2));
  if (compat) {
    struct inet_diag_req *req = NLMSG_DATA(&msg.nlh);
    req->idiag_states = 0xffffffffu;
  } else {
    struct inet_diag_req_v2 *req = NLMSG_DATA(&msg.nlh);
    req->sdiag_family = (unsigned char)family;
    req->sdiag_protocol = (unsigned char)protocol;
    req->idiag_states = 0xffffffffu;
  }
  if (use_bytecode) {
    /* The filter attribute follows the request, whichever of the two it is. */
    struct rtattr *rta = (struct rtattr *)(msg.bytes + NLMSG_ALIGN(len));
    int bclen = build_bytecode(ports, nports, (struct inet_diag_bc_op *)RTA_DATA(rta));
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
      if (!watched(sport, ports, nports) && !(dport != 0 && watched(dport, ports, nports))) continue;
      int f = m->idiag_family == AF_INET6 ? AF_INET6 : AF_INET;
      const char *state;
      if (protocol == IPPROTO_UDP) state = m->idiag_state == 1 ? "ESTABLISHED" : "UNCONN";
      else state = tcp_state_name(m->idiag_state);
      char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
      format_addr(f, m->id.idiag_src, local, sizeof local);
      if (dport == 0) {
        fprintf(out, "%s %s %s %s %u * * %u %u\n", proto, f == AF_INET6 ? "6" : "4", state, local, sport, m->idiag_inode, m->idiag_uid);
      } else {
        format_addr(f, m->id.idiag_dst, remote, sizeof remote);
        fprintf(out, "%s %s %s %s %u %s %u %u %u\n", proto, f == AF_INET6 ? "6" : "4", state, local, sport, remote, dport, m->idiag_inode, m->idiag_uid);
      }
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

/* A netlink socket in the request's namespace: enter it, open, come straight back. */
static int open_netlink_here(void) {
  if (!target_ns) return open_netlink();
  if (home_ns < 0 && (home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) return -1;
  int ns = open(target_ns, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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

static void answer(char *line) {
  unsigned short ports[MAX_PORTS];
  int nports = parse_ports(line, ports);
  if (nports <= 0) {
    printf("ERR bad request: expected comma-separated ports (1-65535, at most %d)\n", MAX_PORTS);
    return;
  }
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
    failed = dump(out, 0, IPPROTO_TCP, ports, nports, &rows, &code, err, sizeof err) != 0;
    tcp_compat_failed = failed;
    for (int i = 0; i < 2 && !failed; i++)
      failed = dump(out, families[i], IPPROTO_UDP, ports, nports, &rows, &code, err, sizeof err) != 0;
  } else {
    for (int i = 0; i < 4 && !failed; i++)
      failed = dump(out, families[i / 2], protocols[i % 2], ports, nports, &rows, &code, err, sizeof err) != 0;
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
    answer(line);
    return;
  }
  if (use_bytecode && code == EINVAL) {
    /* The kernel refused the filter: dump unfiltered from now on, and answer this request so. */
    use_bytecode = 0;
    answer(line);
    return;
  }
  printf("ERR %s\n", err);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-bytecode") == 0) use_bytecode = 0;
    else if (strcmp(argv[i], "--no-compat") == 0) use_compat = 0;
    else {
      fprintf(stderr, "usage: %s [--no-bytecode] [--no-compat]\n", argv[0]);
      return 2;
    }
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = '\0';
    char *path = strchr(line, ' ');
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
