/*
 * The samplers: every PERIOD seconds one line in Heroku's l2met form, for log-based metrics.
 *
 *   supervise nginx-samples PORT PERIOD
 *     sample#nginx.connections.active=5 … count#nginx.requests=120 count#nginx.connections.dropped=0
 *     from nginx's stub_status at 127.0.0.1:PORT: sample# are the connections at that moment,
 *     count# what happened since the line before (dropped: accepted but not handled, worker
 *     connections being full). Our own request and connection are left out of the figures.
 *   supervise pool-samples RUN_DIR PORT PERIOD
 *     sample#pgbouncer.cl_active=3 sample#pgbouncer.cl_waiting=0 … source=db1, one per database,
 *     from pgbouncer's SHOW POOLS, read as the stats-only user over the private socket (trusted
 *     there: no password), speaking PostgreSQL's protocol itself, so no psql is needed.
 *
 * Each runs as a child of the supervisor. The dyno's SIGTERM is not for them (they report through
 * the drain); the supervisor stops them with SIGHUP once what they watch is gone.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"

static void on_hup(int sig) { (void)sig; _exit(0); }

static void as_sampler(void) {
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, on_hup);
  /* Our lines go out whole, each as it is made. */
  setvbuf(stdout, NULL, _IOLBF, 0);
}

static void nap(int seconds) {
  struct timespec t = {.tv_sec = seconds};
  while (nanosleep(&t, &t) != 0) {}
}

/* A socket with 5 s send and receive timeouts (as psql's PGCONNECT_TIMEOUT=5 before). */
static int timed_socket(int domain) {
  int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = {.tv_sec = 5};
  if (fd >= 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  return fd;
}

static int send_all(int fd, const void *buf, size_t n) {
  for (size_t done = 0; done < n;) {
    ssize_t k = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
    if (k <= 0) return -1;
    done += k;
  }
  return 0;
}

static int recv_all(int fd, void *buf, size_t n) {
  for (size_t done = 0; done < n;) {
    ssize_t k = recv(fd, (char *)buf + done, n - done, 0);
    if (k <= 0) return -1;
    done += k;
  }
  return 0;
}

/* ---- nginx ------------------------------------------------------------------------------- */

#define STATUS_PATH "/.nginx-pgbouncer/stub_status"

/* active reading writing waiting accepted handled requests */
static int read_status(int port, long s[7]) {
  int fd = timed_socket(AF_INET);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  char buf[2048];
  size_t len = 0;
  ssize_t k;
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      send_all(fd, "GET " STATUS_PATH " HTTP/1.0\r\nHost: localhost\r\n\r\n", sizeof "GET " STATUS_PATH " HTTP/1.0\r\nHost: localhost\r\n\r\n" - 1) != 0) {
    close(fd);
    return -1;
  }
  while (len < sizeof buf - 1 && (k = recv(fd, buf + len, sizeof buf - 1 - len, 0)) > 0) len += k;
  close(fd);
  buf[len] = '\0';
  const char *body = strstr(buf, "Active connections:");
  if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4) != 0 || !body) return -1;
  return sscanf(body, "Active connections: %ld server accepts handled requests %ld %ld %ld Reading: %ld Writing: %ld Waiting: %ld",
                &s[0], &s[4], &s[5], &s[6], &s[1], &s[2], &s[3]) == 7 ? 0 : -1;
}

int nginx_samples(int argc, char **argv) {
  if (argc != 3) return 2;
  int port = atoi(argv[1]), period = atoi(argv[2]);
  long last[7], s[7];
  as_sampler();
  if (read_status(port, last) != 0) {
    say("nginx-samples", "no stub_status at 127.0.0.1:%d%s: samples are off (an own config/nginx.conf.erb needs the location of the README's \"Seeing nginx\")", port, STATUS_PATH);
    for (;;) pause();
  }
  for (;;) {
    nap(period);
    if (read_status(port, s) != 0) continue;
    /* Our own request is in the counters, and our own connection is active and writing. */
    printf("sample#nginx.connections.active=%ld sample#nginx.connections.reading=%ld sample#nginx.connections.writing=%ld "
           "sample#nginx.connections.waiting=%ld count#nginx.requests=%ld count#nginx.connections.dropped=%ld\n",
           s[0] - 1, s[1], s[2] - 1, s[3], s[6] - last[6] - 1, (s[4] - last[4]) - (s[5] - last[5]));
    memcpy(last, s, sizeof last);
  }
}

/* ---- pgbouncer --------------------------------------------------------------------------- */

/* next_message FD TYPE BUF CAP: the next protocol message's type and body; its length or -1. */
static long next_message(int fd, char *type, char *buf, size_t cap) {
  uint32_t len;
  if (recv_all(fd, type, 1) != 0 || recv_all(fd, &len, 4) != 0) return -1;
  len = ntohl(len);
  if (len < 4 || len - 4 >= cap) return -1;
  if (recv_all(fd, buf, len - 4) != 0) return -1;
  buf[len - 4] = '\0'; /* the field names of a row description are read as strings */
  return (long)(len - 4);
}

static const char *const POOL_COLUMNS[] = {"cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_used", "sv_login", "maxwait"};
#define N_POOL_COLUMNS (sizeof POOL_COLUMNS / sizeof POOL_COLUMNS[0])

/* show_pools DIR PORT: one line per pooled database, or -1 where pgbouncer does not answer. */
static int show_pools(const char *dir, int port) {
  static char buf[1 << 16];
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  int fd = timed_socket(AF_UNIX), ok = -1;
  if (fd < 0) return -1;
  snprintf(a.sun_path, sizeof a.sun_path, "%s/.s.PGSQL.%d", dir, port);
  /* Its length (filled in below), protocol 3.0, the parameters, and the list's closing NUL (the
     literal's own). */
  char msg[] = "\0\0\0\0\0\3\0\0user\0pgbouncer_stats\0database\0pgbouncer\0";
  uint32_t n = htonl(sizeof msg);
  memcpy(msg, &n, 4);
  static const char query[] = "Q\0\0\0\x10SHOW POOLS;"; /* 4 + 12 bytes, the final NUL included */
  int col_db = -1, col[N_POOL_COLUMNS];
  for (size_t i = 0; i < N_POOL_COLUMNS; i++) col[i] = -1;
  char type;
  long len;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || send_all(fd, msg, sizeof msg) != 0) goto out;
  while ((len = next_message(fd, &type, buf, sizeof buf)) >= 0 && type != 'Z') {
    if (type == 'E' || (type == 'R' && (len < 4 || buf[3] != 0))) goto out; /* no trust here */
  }
  if (len < 0 || send_all(fd, query, sizeof query) != 0) goto out;
  while ((len = next_message(fd, &type, buf, sizeof buf)) >= 0 && type != 'Z') {
    if (type == 'T') {
      int fields = (unsigned char)buf[0] << 8 | (unsigned char)buf[1];
      const char *p = buf + 2;
      for (int f = 0; f < fields && p < buf + len; f++) {
        if (strcmp(p, "database") == 0) col_db = f;
        for (size_t i = 0; i < N_POOL_COLUMNS; i++)
          if (strcmp(p, POOL_COLUMNS[i]) == 0) col[i] = f;
        p += strlen(p) + 1 + 18;
      }
    } else if (type == 'D') {
      char line[1024], db[256] = "", *value[64] = {0};
      int cols = (unsigned char)buf[0] << 8 | (unsigned char)buf[1];
      char *p = buf + 2;
      for (int f = 0; f < cols && f < 64 && p + 4 <= buf + len; f++) {
        uint32_t l;
        memcpy(&l, p, 4);
        l = ntohl(l);
        p += 4;
        if (l == 0xffffffffu) continue; /* NULL */
        if (p + l > buf + len) break;
        value[f] = strndup(p, l);
        p += l;
      }
      if (col_db >= 0 && value[col_db]) snprintf(db, sizeof db, "%s", value[col_db]);
      if (strcmp(db, "pgbouncer") != 0) {
        size_t at = 0;
        for (size_t i = 0; i < N_POOL_COLUMNS; i++)
          if (col[i] >= 0 && col[i] < 64 && at < sizeof line) {
            at += snprintf(line + at, sizeof line - at, "sample#pgbouncer.%s=%s ", POOL_COLUMNS[i], value[col[i]] ? value[col[i]] : "");
            if (at > sizeof line - 1) at = sizeof line - 1;
          }
        printf("%.*ssource=%s\n", (int)at, line, db);
      }
      for (int f = 0; f < 64; f++) free(value[f]);
    } else if (type == 'E') goto out;
  }
  if (len >= 0) ok = 0;
  send_all(fd, "X\0\0\0\4", 5);
out:
  close(fd);
  return ok;
}

int pool_samples(int argc, char **argv) {
  if (argc != 4) return 2;
  const char *dir = argv[1];
  int port = atoi(argv[2]), period = atoi(argv[3]);
  as_sampler();
  for (;;) {
    nap(period);
    show_pools(dir, port);
  }
}
