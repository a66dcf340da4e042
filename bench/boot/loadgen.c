/*
 * Closed-loop HTTP/1.1 load on a unix socket, the way nginx talks to an upstream: `conc` connections, each sending the
 * next request when its answer is complete. Written in C with epoll so that on a 2-core machine the load generator
 * costs far less CPU per request than the server it measures (the Node one cost more than the boot service).
 *
 *   loadgen SOCKET CONC MAX_REQUESTS SECONDS keep|close IDS_FILE
 *
 * keep:  persistent connections (nginx's upstream keepalive); when the server closes one (gunicorn's sync worker
 *        always does), the next request opens a new one, so that cost is measured where it lies.
 * close: a new connection per request (`Connection: close`).
 * IDS_FILE: one client a line, "name<TAB>fingerprint<TAB>serial<TAB>subject DN"; request i uses line i % n and its
 * answer must be status 200, start with "#!ipxe" and hold " host=NAME " (the client's own script).
 * Prints one JSON line: requests, errors, seconds, p50/p99 ms, connections opened, retries, own CPU ms after setup.
 * A request that finds its reused connection already closed (no byte of answer) is sent again on a new connection,
 * as nginx does for an idempotent request; such retries are counted and printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "loadcommon.h"

#define BUF 65536

struct id { char *req; size_t len; char *expect; };
struct conn {
  int fd;
  long req;        /* index of the request in flight */
  size_t sent;     /* bytes of it written */
  size_t got;      /* bytes of answer read */
  int reused;      /* this connection already carried an answer */
  double t0;
  char buf[BUF];
};

static struct sockaddr_un addr;
static int ep, keep;
static struct id *ids;
static long nids, next_req, max_req, connects, retries;

static int open_conn(struct conn *c) {
  /* Blocking connect: on a unix socket it only waits while the listen backlog is full. */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  c->fd = fd;
  c->reused = 0;
  connects++;
  struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c };
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  return 0;
}

static void drop(struct conn *c) {
  if (c->fd >= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); }
  c->fd = -1;
}

static int want_out(struct conn *c, int out) {
  struct epoll_event ev = { .events = (out ? EPOLLOUT : 0) | EPOLLIN | EPOLLRDHUP, .data.ptr = c };
  return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int write_some(struct conn *c) {
  struct id *d = &ids[c->req % nids];
  while (c->sent < d->len) {
    ssize_t n = write(c->fd, d->req + c->sent, d->len - c->sent);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->sent += (size_t)n;
  }
  return want_out(c, 0) < 0 ? -1 : 0;
}

/* Start request number `r` on c, opening a connection when c has none. Returns -1 when no connection can be made. */
static int start(struct conn *c, long r, double t0) {
  if (c->fd < 0 && open_conn(c) < 0) return -1;
  c->req = r;
  c->sent = 0;
  c->got = 0;
  c->t0 = t0;
  return write_some(c);
}

static int next(struct conn *c, double deadline) {
  while (next_req < max_req && now_ms() < deadline) {
    long r = next_req++;
    if (start(c, r, now_ms()) == 0) return 0;
    drop(c);
    fail("cannot connect to the socket");
    lat[done++] = 0;
  }
  drop(c);
  return -1;
}

/* 1: a whole answer is in c->buf (sets *close_after); 0: need more; -1: malformed. */
static int complete(struct conn *c, size_t *body_at, size_t *body_len, int *status, int *close_after) {
  c->buf[c->got] = 0;
  char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
  if (!end) return c->got >= BUF - 1 ? -1 : 0;
  if (c->got < 12 || strncmp(c->buf, "HTTP/1.", 7) != 0) return -1;
  *status = atoi(c->buf + 9);
  long cl = -1;
  *close_after = strncmp(c->buf, "HTTP/1.0", 8) == 0;
  for (char *l = strstr(c->buf, "\r\n") + 2; l < end; l = strstr(l, "\r\n") + 2) {
    if (strncasecmp(l, "content-length:", 15) == 0) cl = atol(l + 15);
    else if (strncasecmp(l, "connection:", 11) == 0) {
      char *v = l + 11;
      while (*v == ' ') v++;
      if (strncasecmp(v, "close", 5) == 0) *close_after = 1;
      else if (strncasecmp(v, "keep-alive", 10) == 0) *close_after = 0;
    }
  }
  if (cl < 0) return -1; /* both servers send Content-Length; chunked answers are not expected here */
  *body_at = (size_t)(end + 4 - c->buf);
  *body_len = (size_t)cl;
  if (*body_at + *body_len >= BUF) return -1;
  return c->got >= *body_at + *body_len ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc != 7) { fprintf(stderr, "usage: loadgen SOCKET CONC MAX_REQUESTS SECONDS keep|close IDS_FILE\n"); return 2; }
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  int conc = atoi(argv[2]);
  max_req = atol(argv[3]);
  double seconds = atof(argv[4]);
  keep = strcmp(argv[5], "keep") == 0;

  FILE *f = fopen(argv[6], "r");
  if (!f) { perror(argv[6]); return 2; }
  char line[4096];
  ids = calloc(100000, sizeof *ids);
  while (nids < 100000 && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *name = strtok(line, "\t"), *fp = strtok(NULL, "\t"), *serial = strtok(NULL, "\t"), *dn = strtok(NULL, "\t");
    if (!name || !fp || !serial || !dn) continue;
    /* What nginx sends upstream with the product's proxy_set_header lines (Connection "" drops the header). */
    char req[2048];
    int n = snprintf(req, sizeof req,
      "GET /boot.ipxe HTTP/1.1\r\nHost: localhost\r\nX-Real-IP: 127.0.0.1\r\nX-SSL-Client-Verify: SUCCESS\r\n"
      "X-SSL-Client-Serial: %s\r\nX-SSL-Client-Fingerprint: %s\r\nX-SSL-Client-S-DN: %s\r\n%s"
      "User-Agent: iPXE/2.0.0\r\n\r\n", serial, fp, dn, keep ? "" : "Connection: close\r\n");
    ids[nids].req = strdup(req);
    ids[nids].len = (size_t)n;
    char expect[300];
    snprintf(expect, sizeof expect, " host=%s ", name);
    ids[nids].expect = strdup(expect);
    nids++;
  }
  fclose(f);
  if (nids == 0) { fprintf(stderr, "%s has no client lines\n", argv[6]); return 2; }

  lat = calloc((size_t)max_req + 1, sizeof *lat);
  struct conn *conns = calloc((size_t)conc, sizeof *conns);
  ep = epoll_create1(EPOLL_CLOEXEC);
  double setup_cpu = cpu_ms(); /* loading identities is not part of the load */
  double t_start = now_ms(), deadline = t_start + seconds * 1e3;
  int active = 0;
  for (int i = 0; i < conc; i++) {
    conns[i].fd = -1;
    if (next(&conns[i], deadline) == 0) active++;
  }

  struct epoll_event evs[256];
  while (active > 0) {
    int n = epoll_wait(ep, evs, 256, 30000);
    if (n <= 0) { if (n < 0 && errno == EINTR) continue; fail("no answer within 30 s"); break; }
    for (int k = 0; k < n; k++) {
      struct conn *c = evs[k].data.ptr;
      if (c->fd < 0) continue;
      if ((evs[k].events & EPOLLOUT) && c->sent < ids[c->req % nids].len && write_some(c) < 0) goto broken;
      if (!(evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) continue;
      int eof = 0;
      for (;;) {
        ssize_t r = read(c->fd, c->buf + c->got, BUF - 1 - c->got);
        if (r > 0) { c->got += (size_t)r; if (c->got < BUF - 1) continue; }
        if (r < 0 && errno == EAGAIN) break;
        eof = r <= 0;
        break;
      }
      {
        size_t at, len;
        int status, close_after;
        int st = complete(c, &at, &len, &status, &close_after);
        if (st == 0 && eof) goto broken; /* closed before the answer was whole */
        if (st == 0) continue;
        double t = now_ms();
        if (st < 0) fail("malformed HTTP answer");
        else if (status != 200) { char m[120]; snprintf(m, sizeof m, "status %d: %.80s", status, c->buf + at); fail(m); }
        else if (strncmp(c->buf + at, "#!ipxe", 6) != 0 || !memmem(c->buf + at, len, ids[c->req % nids].expect, strlen(ids[c->req % nids].expect))) fail("answer is not this client's own script");
        lat[done++] = t - c->t0;
        if (st < 0 || close_after || eof || !keep) drop(c);
        else c->reused = 1;
        if (next(c, deadline) < 0) active--;
        continue;
      }
    broken:
      /* The server closed. Before any byte of the answer on a reused connection: send the request again on a new one. */
      if (c->got == 0 && c->reused) {
        drop(c);
        retries++;
        if (start(c, c->req, c->t0) == 0) continue;
      } else {
        fail(c->got ? "connection closed in the middle of an answer" : "connection closed before any answer");
        lat[done++] = now_ms() - c->t0;
      }
      drop(c);
      if (next(c, deadline) < 0) active--;
    }
  }
  report(t_start, setup_cpu, connects, retries);
  return 0;
}
