/*
 * Closed-loop HTTPS load like iPXE: every request on a new TCP + TLS 1.2 connection (no session reuse) with one of many
 * client certificates, `Connection: close`. C with OpenSSL and epoll, because the Node generator spent ≈ 5 ms of CPU
 * per handshake, more than nginx itself, on the same 2 cores it was measuring.
 *
 *   tlsload PORT PATH CONC MAX_REQUESTS SECONDS CA_FILE IDS_FILE own|any
 *
 * IDS_FILE: one client a line, "name<TAB>cert file<TAB>key file"; request i uses line i % n (its SSL_CTX is built once).
 * own: the answer must be status 200, start with "#!ipxe" and hold " host=NAME " (the client's own script);
 * any: status 200 and "#!ipxe" (the static file). Prints one JSON line like loadgen.c (CPU after loading the keys).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "loadcommon.h"

#define BUF 16384

struct id { SSL_CTX *ctx; char expect[300]; };
struct conn { int fd; SSL *ssl; long req; int state; size_t sent, got; double t0; char buf[BUF]; };
enum { HANDSHAKE, SENDING, READING };

static struct sockaddr_in addr;
static int ep, own;
static struct id *ids;
static long nids, next_req, max_req;
static char request[512];
static size_t request_len;

static void drop(struct conn *c) {
  if (c->ssl) SSL_free(c->ssl);
  if (c->fd >= 0) close(c->fd); /* close() also leaves the epoll set */
  c->ssl = NULL;
  c->fd = -1;
}

static void watch(struct conn *c, int want_write) {
  struct epoll_event ev = { .events = want_write ? EPOLLOUT : EPOLLIN, .data.ptr = c };
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static int begin(struct conn *c, double deadline) {
  while (next_req < max_req && now_ms() < deadline) {
    c->req = next_req++;
    c->t0 = now_ms();
    c->sent = c->got = 0;
    c->state = HANDSHAKE;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
      fail("cannot connect");
      lat[done++] = now_ms() - c->t0;
      drop(c);
      continue;
    }
    c->ssl = SSL_new(ids[c->req % nids].ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    SSL_set_connect_state(c->ssl);
    watch(c, 1);
    return 0;
  }
  return -1;
}

/* Advance c; returns 1 when the request is finished (answer checked or failed), 0 when it waits for the socket. */
static int step(struct conn *c) {
  for (;;) {
    int r;
    if (c->state == HANDSHAKE) {
      r = SSL_do_handshake(c->ssl);
      if (r == 1) { c->state = SENDING; continue; }
    } else if (c->state == SENDING) {
      r = SSL_write(c->ssl, request + c->sent, (int)(request_len - c->sent));
      if (r > 0) { c->sent += (size_t)r; if (c->sent == request_len) c->state = READING; continue; }
    } else {
      r = SSL_read(c->ssl, c->buf + c->got, (int)(BUF - 1 - c->got));
      if (r > 0) { c->got += (size_t)r; if (c->got < BUF - 1) continue; }
      if (r == 0 || SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN || SSL_get_error(c->ssl, r) == SSL_ERROR_SYSCALL || c->got >= BUF - 1) {
        /* Connection: close — the answer ends with the connection. */
        c->buf[c->got] = 0;
        char *body = strstr(c->buf, "\r\n\r\n");
        int status = c->got > 12 ? atoi(c->buf + 9) : 0;
        if (!body) fail(c->got ? "malformed HTTP answer" : "connection closed before any answer");
        else if (status != 200) { char m[120]; snprintf(m, sizeof m, "status %d: %.80s", status, body + 4); fail(m); }
        else if (strncmp(body + 4, "#!ipxe", 6) != 0 || (own && !strstr(body + 4, ids[c->req % nids].expect))) fail("answer is not this client's own script");
        return 1;
      }
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) { watch(c, 0); return 0; }
    if (e == SSL_ERROR_WANT_WRITE) { watch(c, 1); return 0; }
    char m[160];
    unsigned long code = ERR_get_error();
    snprintf(m, sizeof m, "TLS %s failed: %s", c->state == HANDSHAKE ? "handshake" : "I/O", code ? ERR_reason_error_string(code) : errno ? strerror(errno) : "the server closed the connection");
    ERR_clear_error();
    fail(m);
    return 1;
  }
}

int main(int argc, char **argv) {
  if (argc != 9) { fprintf(stderr, "usage: tlsload PORT PATH CONC MAX_REQUESTS SECONDS CA_FILE IDS_FILE own|any\n"); return 2; }
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  request_len = (size_t)snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: iPXE/2.0.0\r\nConnection: close\r\n\r\n", argv[2]);
  int conc = atoi(argv[3]);
  max_req = atol(argv[4]);
  double seconds = atof(argv[5]);
  own = strcmp(argv[8], "own") == 0;

  FILE *f = fopen(argv[7], "r");
  if (!f) { perror(argv[7]); return 2; }
  ids = calloc(100000, sizeof *ids);
  char line[4096];
  while (nids < 100000 && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *name = strtok(line, "\t"), *cert = strtok(NULL, "\t"), *key = strtok(NULL, "\t");
    if (!name || !cert || !key) continue;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (SSL_CTX_load_verify_locations(ctx, argv[6], NULL) != 1 || SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
      fprintf(stderr, "cannot load the TLS identity of %s (%s, %s, CA %s)\n", name, cert, key, argv[6]);
      return 2;
    }
    ids[nids].ctx = ctx;
    snprintf(ids[nids].expect, sizeof ids[nids].expect, " host=%s ", name);
    nids++;
  }
  fclose(f);
  if (nids == 0) { fprintf(stderr, "%s has no client lines\n", argv[7]); return 2; }

  lat = calloc((size_t)max_req + 1, sizeof *lat);
  struct conn *conns = calloc((size_t)conc, sizeof *conns);
  ep = epoll_create1(EPOLL_CLOEXEC);
  double setup_cpu = cpu_ms(); /* loading identities is not part of the load */
  double t_start = now_ms(), deadline = t_start + seconds * 1e3;
  int active = 0;
  for (int i = 0; i < conc; i++) { conns[i].fd = -1; if (begin(&conns[i], deadline) == 0) active++; }
  struct epoll_event evs[512];
  while (active > 0) {
    int n = epoll_wait(ep, evs, 512, 30000);
    if (n <= 0) { if (n < 0 && errno == EINTR) continue; fail("no progress within 30 s"); break; }
    for (int k = 0; k < n; k++) {
      struct conn *c = evs[k].data.ptr;
      if (c->fd < 0 || !step(c)) continue;
      lat[done++] = now_ms() - c->t0;
      drop(c);
      if (begin(c, deadline) < 0) active--;
    }
  }
  report(t_start, setup_cpu, done, 0);
  return 0;
}
