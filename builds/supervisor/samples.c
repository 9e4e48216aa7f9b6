/*
 * The samplers: every PERIOD seconds one line in Heroku's l2met form, for log-based metrics.
 *
 *   supervise nginx-samples PORT PERIOD
 *     source=web.1 sample#nginx.connections.active=5 … count#nginx.requests=120 count#nginx.connections.dropped=0
 *     from nginx's stub_status at 127.0.0.1:PORT: sample# are the connections at that moment,
 *     count# what happened since the line before (dropped: accepted but not handled, worker
 *     connections being full). Our own request and connection are left out of the figures.
 *   supervise pool-samples POOLER_DIR PORT PERIOD
 *     source=web.1 database=db1 sample#pgbouncer.cl_active=3 sample#pgbouncer.cl_waiting=0 …, one
 *     per database, from pgbouncer's SHOW POOLS, read as the stats-only user over the private
 *     socket (trusted there: no password), speaking PostgreSQL's protocol itself: no psql needed.
 *   supervise pool-budget OWNER POOLER_DIR PORT MOST BUDGET REFUSE DB USER [DB USER]...
 *     once, at boot: for each pooled database, whether this dyno's pool (MOST server connections)
 *     fits in the room the database has left, asked through the pool as USER; see pool_budget.
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

/* error_text BUF LEN ERR CAP: an ErrorResponse's message and SQLSTATE, as "MESSAGE (SQLSTATE)". */
static void error_text(const char *buf, long len, char *err, size_t cap) {
  const char *message = "", *code = "";
  for (const char *p = buf; p < buf + len && *p;) {
    const char *v = p + 1;
    if (*p == 'M') message = v;
    if (*p == 'C') code = v;
    p = v + strlen(v) + 1;
  }
  if (err) snprintf(err, cap, "%.200s (%.5s)", message, code);
}

/* pg_login DIR PORT USER DATABASE ERR CAP: a session with pgbouncer over its private socket, where
   hba trusts every user (no password), ready for a query; its fd, or -1 with ERR said. */
static int pg_login(const char *dir, int port, const char *user, const char *database, char *err, size_t cap) {
  static char buf[1 << 16];
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  int fd = timed_socket(AF_UNIX);
  if (err) snprintf(err, cap, "no answer from pgbouncer");
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
    if (type == 'E') {
      error_text(buf, len, err, cap);
      goto fail;
    }
    if (type == 'R' && (len < 4 || buf[3] != 0)) goto fail; /* no trust here */
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

/* send_query FD SQL: a simple query, in one write: pgbouncer's admin console drops a client whose
   packet it reads in two parts ("incomplete pkt"). */
static int send_query(int fd, const char *sql) {
  char msg[2048];
  size_t len = strlen(sql) + 1;
  if (5 + len > sizeof msg) return -1;
  uint32_t n = htonl((uint32_t)(4 + len));
  msg[0] = 'Q';
  memcpy(msg + 1, &n, 4);
  memcpy(msg + 5, sql, len);
  return send_all(fd, msg, 5 + len);
}

/* each_pool DIR PORT FN CTX: FN for each row of pgbouncer's SHOW POOLS, given the columns' names;
   0, or -1 where pgbouncer does not answer. */
typedef void pool_row_fn(char *const name[64], char *const value[64], void *ctx);
static int each_pool(const char *dir, int port, pool_row_fn *fn, void *ctx) {
  static char buf[1 << 16];
  char *name[64] = {0}, type;
  int fd = pg_login(dir, port, "pgbouncer_stats", "pgbouncer", NULL, 0), ok = -1;
  long len = 0;
  if (fd < 0) return -1;
  if (send_query(fd, "SHOW POOLS;") != 0) goto out;
  while ((len = next_message(fd, &type, buf, sizeof buf)) >= 0 && type != 'Z') {
    if (type == 'T') {
      int fields = (unsigned char)buf[0] << 8 | (unsigned char)buf[1];
      const char *p = buf + 2;
      for (int f = 0; f < fields && f < 64 && p < buf + len; f++) {
        free(name[f]);
        name[f] = strdup(p);
        p += strlen(p) + 1 + 18;
      }
    } else if (type == 'D') {
      char *value[64] = {0};
      row_values(buf, len, value);
      fn(name, value, ctx);
      for (int f = 0; f < 64; f++) free(value[f]);
    } else if (type == 'E') goto out;
  }
  if (len >= 0) ok = 0;
  send_all(fd, "X\0\0\0\4", 5);
out:
  close(fd);
  for (int f = 0; f < 64; f++) free(name[f]);
  return ok;
}

/* column NAME VALUE WANT: WANT's value in a row ("" for NULL), or NULL where there is no such column. */
static const char *column(char *const name[64], char *const value[64], const char *want) {
  for (int f = 0; f < 64; f++)
    if (name[f] && strcmp(name[f], want) == 0) return value[f] ? value[f] : "";
  return NULL;
}

/* print_sample: a pool's line, for each pooled database (not pgbouncer's own console). */
static void print_sample(char *const name[64], char *const value[64], void *ctx) {
  (void)ctx;
  const char *db = column(name, value, "database");
  if (!db || strcmp(db, "pgbouncer") == 0) return;
  char line[1024];
  size_t at = (size_t)snprintf(line, sizeof line, "%sdatabase=%.200s", source, db);
  for (size_t i = 0; i < N_POOL_COLUMNS && at < sizeof line; i++) {
    const char *v = column(name, value, POOL_COLUMNS[i]);
    if (v) at += snprintf(line + at, sizeof line - at, " sample#pgbouncer.%s=%.20s", POOL_COLUMNS[i], v);
  }
  printf("%s\n", line);
}

int pool_samples(int argc, char **argv) {
  if (argc != 4) return 2;
  const char *dir = argv[1];
  int port = atoi(argv[2]), period = atoi(argv[3]);
  as_sampler();
  for (;;) {
    nap(period);
    each_pool(dir, port, print_sample, NULL);
  }
}

/* ---- the connection budget --------------------------------------------------------------- */

/* The tightest of the limits on this pool's connections: the server's (max_connections, less the
   slots kept for superusers and reserved roles), the role's and the database's own, with the
   connections each counts; and this role's connections, for PGBOUNCER_CONNECTION_BUDGET. Another
   role's session shows no backend_type to us, but its user; a background process shows neither. */
static const char BUDGET_SQL[] =
    "WITH a AS (SELECT usesysid, datid, backend_type FROM pg_stat_activity), "
    "l(what, lim, used) AS ("
    " SELECT 'max_connections', current_setting('max_connections')::int"
    "  - current_setting('superuser_reserved_connections')::int"
    "  - coalesce(current_setting('reserved_connections', true)::int, 0),"
    "  (SELECT count(*) FROM a WHERE backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL))"
    " UNION ALL SELECT 'the role''s connection limit', rolconnlimit, (SELECT count(*) FROM a WHERE usesysid = r.oid)"
    "  FROM pg_roles r WHERE rolname = current_user AND rolconnlimit > 0"
    " UNION ALL SELECT 'the database''s connection limit', datconnlimit, (SELECT count(*) FROM a WHERE datid = d.oid)"
    "  FROM pg_database d WHERE datname = current_database() AND datconnlimit > 0) "
    "SELECT what, lim, used, (SELECT count(*) FROM a WHERE usesysid = (SELECT oid FROM pg_roles WHERE rolname = current_user))"
    " FROM l ORDER BY lim - used LIMIT 1";

struct room {
  char what[64];
  long limit, in_use, role_in_use;
};

/* database_room DIR PORT DB USER ROOM ERR CAP: asked through the pool itself, over the server
   connection it opens for the app anyway (no login of our own to the database); 0, or -1 with
   ERR said. */
static int database_room(const char *dir, int port, const char *db, const char *user, struct room *r, char *err, size_t cap) {
  static char buf[4096];
  int fd = pg_login(dir, port, user, db, err, cap), ok = -1;
  if (fd < 0) return -1;
  char type;
  long len;
  if (send_query(fd, BUDGET_SQL) == 0) {
    while ((len = next_message(fd, &type, buf, sizeof buf)) >= 0 && type != 'Z') {
      if (type == 'D') {
        char *value[64] = {0};
        row_values(buf, len, value);
        if (value[0] && value[1] && value[2] && value[3]) {
          snprintf(r->what, sizeof r->what, "%s", value[0]);
          r->limit = atol(value[1]), r->in_use = atol(value[2]), r->role_in_use = atol(value[3]), ok = 0;
        }
        for (int f = 0; f < 64; f++) free(value[f]);
      } else if (type == 'E') {
        error_text(buf, len, err, cap);
        ok = -1;
      }
    }
    send_all(fd, "X\0\0\0\4", 5);
  }
  close(fd);
  return ok;
}

struct servers {
  const char *db;
  long count;
};

/* count_servers: the server connections a pool holds (for the database CTX names). */
static void count_servers(char *const name[64], char *const value[64], void *ctx) {
  struct servers *s = ctx;
  const char *db = column(name, value, "database");
  if (!db || strcmp(db, s->db) != 0) return;
  static const char *const held[] = {"sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"};
  for (size_t i = 0; i < sizeof held / sizeof held[0]; i++) {
    const char *v = column(name, value, held[i]);
    if (v) s->count += atol(v);
  }
}

int pool_budget(int argc, char **argv) {
  if (argc < 9 || (argc - 7) % 2) return 2;
  const char *owner = argv[1], *dir = argv[2];
  int port = atoi(argv[3]), refuse = atoi(argv[6]), over = 0;
  long most = atol(argv[4]), budget = atol(argv[5]);
  const char *level = refuse ? "error" : "warning";
  for (int i = 7; i + 1 < argc; i += 2) {
    const char *db = argv[i], *user = argv[i + 1];
    struct room r;
    char err[256];
    if (database_room(dir, port, db, user, &r, err, sizeof err) != 0) {
      if (strstr(err, "(53300)")) {
        over = 1;
        say(owner, "%s: %s: the database refused this dyno's pool a connection: %s", db, level, err);
      } else {
        say(owner, "%s: the connection budget was not checked: %s", db, err);
      }
      continue;
    }
    /* This dyno's pool already holds some of the connections counted: our question's, and those
       pgbouncer keeps for PGBOUNCER_MIN_POOL_SIZE. */
    struct servers own = {db, 0};
    if (each_pool(dir, port, count_servers, &own) != 0 || own.count < 1) own.count = 1;
    if (budget > 0 && budget - r.role_in_use < r.limit - r.in_use) {
      snprintf(r.what, sizeof r.what, "PGBOUNCER_CONNECTION_BUDGET, %s's", user);
      r.limit = budget, r.in_use = r.role_in_use;
    }
    if (most <= r.limit - r.in_use + own.count) {
      say(owner, "%s: this dyno opens at most %ld server connections; %ld of %ld (%s) are in use", db, most, r.in_use, r.limit, r.what);
    } else {
      over = 1;
      say(owner, "%s: %s: this dyno may open %ld server connections, but %ld of %ld (%s) are in use, other dynos' included", db, level, most, r.in_use, r.limit, r.what);
      say(owner, "%s: lower PGBOUNCER_DEFAULT_POOL_SIZE or PGBOUNCER_RESERVE_POOL_SIZE, or run fewer dynos: each has its own pool, and during a Preboot deploy old and new web dynos do", db);
    }
  }
  return refuse && over ? 1 : 0;
}
