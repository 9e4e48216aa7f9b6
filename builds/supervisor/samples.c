/*
 * The samplers: every PERIOD seconds one line in Heroku's l2met form, for log-based metrics.
 *
 *   supervise nginx-samples PORT PERIOD
 *     source=web.1 sample#nginx.connections.active=5 … count#nginx.requests=120 count#nginx.connections.dropped=0
 *     from nginx's stub_status at 127.0.0.1:PORT: sample# are the connections at that moment,
 *     count# what happened since the line before (dropped: accepted but not handled, worker
 *     connections being full). Our own request and connection are left out of the figures.
 *   supervise pool-samples RUN_DIR PORT PERIOD
 *     source=web.1 database=db1 sample#pgbouncer.cl_active=3 sample#pgbouncer.cl_waiting=0 …, one
 *     per database, from pgbouncer's SHOW POOLS, read as the stats-only user over the private
 *     socket (trusted there: no password), speaking PostgreSQL's protocol itself: no psql needed.
 *
 * The source is the dyno ($DYNO), as in Heroku's own runtime metrics, which log tools group by;
 * none where there is no dyno name (a machine of one's own). Each runs as a child of the
 * supervisor. The dyno's SIGTERM is not for them (they report through the drain); the supervisor
 * stops them with SIGHUP once what they watch is gone.
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

static char source[80];

/* set_source: "source=$DYNO " when DYNO is a name log tools can take as it is (web.1, run.4821). */
static void set_source(void) {
  const char *dyno = getenv("DYNO");
  if (!dyno || !*dyno || strlen(dyno) > 64 || strspn(dyno, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(dyno)) return;
  snprintf(source, sizeof source, "source=%s ", dyno);
}

static void as_sampler(void) {
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, on_hup);
  /* Our lines go out whole, each as it is made. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  set_source();
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
    printf("%ssample#nginx.connections.active=%ld sample#nginx.connections.reading=%ld sample#nginx.connections.writing=%ld "
           "sample#nginx.connections.waiting=%ld count#nginx.requests=%ld count#nginx.connections.dropped=%ld\n",
           source, s[0] - 1, s[1], s[2] - 1, s[3], s[6] - last[6] - 1, (s[4] - last[4]) - (s[5] - last[5]));
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

/* pg_login DIR PORT USER DATABASE: a session with pgbouncer over its private socket, where hba
   trusts every user (no password), ready for a query; its fd, or -1. */
static int pg_login(const char *dir, int port, const char *user, const char *database) {
  static char buf[1 << 16];
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  int fd = timed_socket(AF_UNIX);
  if (fd < 0) return -1;
  snprintf(a.sun_path, sizeof a.sun_path, "%s/.s.PGSQL.%d", dir, port);
  /* Its length, protocol 3.0, the parameters, and the list's closing NUL. */
  char msg[600];
  size_t n = 8;
  memcpy(msg + 4, "\0\3\0\0", 4);
  n += (size_t)snprintf(msg + n, sizeof msg - n - 2, "user%c%.255s%cdatabase%c%.255s%c", 0, user, 0, 0, database, 0);
  msg[n++] = '\0';
  uint32_t len32 = htonl((uint32_t)n);
  memcpy(msg, &len32, 4);
  char type;
  long len;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || send_all(fd, msg, n) != 0) goto fail;
  while ((len = next_message(fd, &type, buf, sizeof buf)) >= 0 && type != 'Z') {
    if (type == 'E' || (type == 'R' && (len < 4 || buf[3] != 0))) goto fail; /* no trust here */
  }
  if (len >= 0) return fd;
fail:
  close(fd);
  return -1;
}

/* row_values BUF LEN VALUE: a DataRow's fields, each strndup'ed into VALUE[64] (NULL: none). */
static void row_values(const char *buf, long len, char *value[64]) {
  int cols = (unsigned char)buf[0] << 8 | (unsigned char)buf[1];
  const char *p = buf + 2;
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
}

/* send_query FD SQL: a simple query. */
static int send_query(int fd, const char *sql) {
  char head[5] = {'Q'};
  uint32_t n = htonl((uint32_t)(4 + strlen(sql) + 1));
  memcpy(head + 1, &n, 4);
  return send_all(fd, head, 5) == 0 && send_all(fd, sql, strlen(sql) + 1) == 0 ? 0 : -1;
}

/* show_pools DIR PORT: one line per pooled database, or -1 where pgbouncer does not answer. */
static int show_pools(const char *dir, int port) {
  static char buf[1 << 16];
  int fd = pg_login(dir, port, "pgbouncer_stats", "pgbouncer"), ok = -1;
  if (fd < 0) return -1;
  int col_db = -1, col[N_POOL_COLUMNS];
  for (size_t i = 0; i < N_POOL_COLUMNS; i++) col[i] = -1;
  char type;
  long len = 0;
  if (send_query(fd, "SHOW POOLS;") != 0) goto out;
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
      row_values(buf, len, value);
      if (col_db >= 0 && value[col_db]) snprintf(db, sizeof db, "%s", value[col_db]);
      if (strcmp(db, "pgbouncer") != 0) {
        size_t at = (size_t)snprintf(line, sizeof line, "%sdatabase=%s ", source, db);
        if (at > sizeof line - 1) at = sizeof line - 1;
        for (size_t i = 0; i < N_POOL_COLUMNS; i++)
          if (col[i] >= 0 && col[i] < 64 && at < sizeof line) {
            at += snprintf(line + at, sizeof line - at, "sample#pgbouncer.%s=%s ", POOL_COLUMNS[i], value[col[i]] ? value[col[i]] : "");
            if (at > sizeof line - 1) at = sizeof line - 1;
          }
        printf("%.*s\n", at ? (int)at - 1 : 0, line);
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

/* ---- the connection budget --------------------------------------------------------------- */

/* The database's limit for ordinary users, and the connections it has open. */
static const char BUDGET_SQL[] =
    "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int, "
    "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')";

/* database_room DIR PORT DB USER LIMIT IN_USE: asked through the pool itself, over the server
   connection it opens for the app anyway (no login of our own to the database); 0, or -1. */
static int database_room(const char *dir, int port, const char *db, const char *user, long *limit, long *in_use) {
  static char buf[4096];
  int fd = pg_login(dir, port, user, db), ok = -1;
  if (fd < 0) return -1;
  char type;
  long len;
  if (send_query(fd, BUDGET_SQL) == 0) {
    while ((len = next_message(fd, &type, buf, sizeof buf)) >= 0 && type != 'Z') {
      if (type == 'D') {
        char *value[64] = {0};
        row_values(buf, len, value);
        if (value[0] && value[1]) *limit = atol(value[0]), *in_use = atol(value[1]), ok = 0;
        for (int f = 0; f < 64; f++) free(value[f]);
      } else if (type == 'E') ok = -1;
    }
    send_all(fd, "X\0\0\0\4", 5);
  }
  close(fd);
  return ok;
}

int pool_budget(int argc, char **argv) {
  if (argc < 9 || (argc - 7) % 2) return 2;
  const char *owner = argv[1], *dir = argv[2];
  int port = atoi(argv[3]), refuse = atoi(argv[6]), over = 0;
  long most = atol(argv[4]), budget = atol(argv[5]);
  for (int i = 7; i + 1 < argc; i += 2) {
    const char *db = argv[i], *user = argv[i + 1];
    long limit, in_use;
    if (database_room(dir, port, db, user, &limit, &in_use) != 0) {
      say(owner, "%s: the connection budget was not checked: no answer through the pool", db);
      continue;
    }
    const char *whose = "the database's limit";
    if (budget > 0 && budget < limit) limit = budget, whose = "PGBOUNCER_CONNECTION_BUDGET";
    /* Our own question holds one of this pool's connections: it is counted in both. */
    long room = limit - in_use + 1;
    if (most <= room) {
      say(owner, "%s: this dyno opens at most %ld server connections; %ld of %ld (%s) are in use", db, most, in_use, limit, whose);
    } else {
      over = 1;
      say(owner, "%s: %s: this dyno may open %ld server connections, but %ld of %ld (%s) are in use, other dynos' included", db, refuse ? "error" : "warning", most, in_use, limit, whose);
      say(owner, "%s: lower PGBOUNCER_DEFAULT_POOL_SIZE or PGBOUNCER_RESERVE_POOL_SIZE, or run fewer dynos: each has its own pool, and during a Preboot deploy old and new web dynos do", db);
    }
  }
  return refuse && over ? 1 : 0;
}
