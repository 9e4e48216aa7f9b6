/*
 * supervise PLAN -- COMMAND...: the one supervisor of a dyno. The start scripts do the config
 * work (settings, rendering, URLs), each adds its children to PLAN, and the last one execs this
 * with the app's COMMAND. Whatever the Procfile nests, nginx, pgbouncer, stunnel, the app and the
 * samplers are then children of this one process, started and stopped in one order:
 *
 *   start: the children of phase "before" in plan order (the pooler), each once it is ready,
 *          then the app and its readiness, then the "after" children (nginx and its companions);
 *   stop:  on SIGTERM or SIGINT, or when a child ends: each child's `stop` signal to its process
 *          group (nginx stops accepting, the app drains), once more a second later to what
 *          still runs and still catches it, then `after` rules as children end (the pooler once
 *          the app is gone, stunnel once pgbouncer is); whatever is left at the deadline is
 *          killed.
 *
 * The loop is tini's: wait for a signal (here through a signalfd, with the log relays, in one
 * poll), then reap every child that ended with waitpid(-1, WNOHANG). The exit status: a child
 * other than the app ending on its own, or the app of a web process, is a failure and never 0;
 * a worker's app gives its own status; a child killed by a crash signal makes it non-zero.
 *
 * PLAN is a file of NUL-terminated words (bash writes it with printf '%s\0'); see read_plan.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"

#define MAX_CHILDREN 64
/* A list of the plan: up to this many (stunnel has a socket per database URL). */
#define MAX_LIST 64

enum phase { BEFORE, MAIN, AFTER };

struct rule { const char *role; int sig, sent; };

struct child {
  const char *role, *owner;
  enum phase phase;
  char **argv;
  /* Ready when every socket in `sockets` exists, or `file` has existed for `file_grace` s. */
  const char *sockets[MAX_LIST];
  int n_sockets, port, timeout, file_grace;
  const char *file, *what, *fail, *ready_say;
  const char *timeout_say[MAX_LIST];
  int n_timeout_say;
  /* Something else accepting on forbid_port while it boots is an error (the app holding $PORT). */
  int forbid_port;
  const char *forbid_say[MAX_LIST], *forbid_fail;
  int n_forbid_say;
  int stop_sig, ignore_term, relay, hold_fd, once;
  struct rule after[MAX_LIST];
  int n_after;
  /* state */
  pid_t pid;
  int started, was_ready, exited, status, killed, own_group;
  double file_seen;
  int out_fd, err_fd;
};

static struct child children[MAX_CHILDREN];
static int n_children;
static const char *cleanup_dirs[MAX_LIST];
static int n_cleanup;
static const char *voice = "supervise"; /* the name global messages go out under */
static int stop_timeout = 25, main_end_fails, tty_mode;
static int shutting_down, boot_failed, failed = -1, crashed, quiet_stop;
static double deadline, resend_at;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* say OWNER FORMAT...: "OWNER: message", in one write, on the stderr we started with. */
void say(const char *owner, const char *fmt, ...) {
  char buf[1024];
  int n = snprintf(buf, sizeof buf, "%s: ", owner);
  va_list ap;
  va_start(ap, fmt);
  n += vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  if (write(2, buf, n) < 0) { /* nowhere left to say it */ }
}

static _Noreturn void die(const char *fmt, const char *arg) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, arg);
  say(voice, "error: the supervisor's plan: %s", msg);
  exit(2);
}

/* ---- the plan ---------------------------------------------------------------------------- */

static char *plan_words, *plan_end, *cursor;

static const char *word(void) {
  if (cursor >= plan_end) die("the plan ends in the middle of a line (%s)", "a start script's bug");
  const char *w = cursor;
  cursor += strlen(cursor) + 1;
  return w;
}

static int number(void) {
  const char *w = word();
  char *end;
  long v = strtol(w, &end, 10);
  if (*w == '\0' || *end != '\0' || v < 0 || v > 1000000) die("not a number in the plan: '%s'", w);
  return (int)v;
}

static int signal_named(const char *name) {
  static const struct { const char *name; int sig; } names[] = {
    {"TERM", SIGTERM}, {"INT", SIGINT}, {"HUP", SIGHUP}, {"QUIT", SIGQUIT}, {"KILL", SIGKILL}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(names[i].name, name) == 0) return names[i].sig;
  die("unknown signal in the plan: '%s'", name);
}

static void add(const char **list, int *n, const char *w) {
  if (*n == MAX_LIST) die("too many entries in the plan after '%s'", w);
  list[(*n)++] = w;
}

/*
 * Global words:        voice NAME | deadline SECONDS | main-end-fails 0|1 | cleanup DIR
 * A child:             child ROLE OWNER before|main|after, then its words, then argv N ARG...
 *   ready-socket PATH  ready-file PATH GRACE  ready-port PORT
 *   ready-wait SECONDS WHAT FAIL   (FAIL: the stopping reason when it is not ready in time)
 *   timeout-say TEXT   (said instead of "gave up waiting for WHAT after N s"; repeatable)
 *   ready-say TEXT     forbid-port PORT FAIL   forbid-say TEXT
 *   stop SIGNAL        after ROLE SIGNAL   ignore-term   relay
 *   hold-fd FD         (a lock the script took: kept from the children, closed once this is ready)
 *   once               (a check that runs and ends. Without ready-wait, its end is never a
 *                      failure; with it, it is ready once it has ended with 0, what follows
 *                      waits for that, and any other end stops the boot)
 */
static void read_plan(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) die("cannot read the plan %s", path);
  plan_words = malloc(st.st_size + 1);
  if (!plan_words || read(fd, plan_words, st.st_size) != st.st_size) die("cannot read the plan %s", path);
  close(fd);
  plan_words[st.st_size] = '\0';
  cursor = plan_words, plan_end = plan_words + st.st_size;
  struct child *c = NULL;
  while (cursor < plan_end) {
    const char *w = word();
    if (strcmp(w, "voice") == 0) voice = word();
    else if (strcmp(w, "deadline") == 0) stop_timeout = number();
    else if (strcmp(w, "main-end-fails") == 0) main_end_fails = number();
    else if (strcmp(w, "cleanup") == 0) add(cleanup_dirs, &n_cleanup, word());
    else if (strcmp(w, "child") == 0) {
      const char *role = word(), *owner = word(), *p = word();
      /* A role named again (the app, by each script of a chain) gathers the words of all. */
      c = NULL;
      for (int i = 0; i < n_children; i++)
        if (strcmp(children[i].role, role) == 0) c = &children[i];
      if (!c) {
        if (n_children == MAX_CHILDREN) die("more than %s children in the plan", "64");
        c = &children[n_children++];
        c->role = role, c->owner = owner, c->out_fd = c->err_fd = c->hold_fd = -1;
      }
      c->phase = strcmp(p, "before") == 0 ? BEFORE : strcmp(p, "main") == 0 ? MAIN : AFTER;
    } else if (!c) die("'%s' before the plan's first child", w);
    else if (strcmp(w, "ready-socket") == 0) add(c->sockets, &c->n_sockets, word());
    else if (strcmp(w, "ready-file") == 0) c->file = word(), c->file_grace = number();
    else if (strcmp(w, "ready-port") == 0) c->port = number();
    else if (strcmp(w, "ready-wait") == 0) c->timeout = number(), c->what = word(), c->fail = word();
    else if (strcmp(w, "timeout-say") == 0) add(c->timeout_say, &c->n_timeout_say, word());
    else if (strcmp(w, "ready-say") == 0) c->ready_say = word();
    else if (strcmp(w, "forbid-port") == 0) c->forbid_port = number(), c->forbid_fail = word();
    else if (strcmp(w, "forbid-say") == 0) add(c->forbid_say, &c->n_forbid_say, word());
    else if (strcmp(w, "stop") == 0) c->stop_sig = signal_named(word());
    else if (strcmp(w, "after") == 0) {
      if (c->n_after == MAX_LIST) die("too many 'after' rules for %s", c->role);
      c->after[c->n_after].role = word();
      c->after[c->n_after++].sig = signal_named(word());
    } else if (strcmp(w, "ignore-term") == 0) c->ignore_term = 1;
    else if (strcmp(w, "relay") == 0) c->relay = 1;
    else if (strcmp(w, "once") == 0) c->once = 1;
    else if (strcmp(w, "hold-fd") == 0) c->hold_fd = number();
    else if (strcmp(w, "argv") == 0) {
      int n = number();
      c->argv = calloc(n + 1, sizeof *c->argv);
      for (int i = 0; i < n; i++) c->argv[i] = (char *)word();
    } else die("unknown word in the plan: '%s'", w);
  }
}

/* ---- starting and readiness -------------------------------------------------------------- */

static sigset_t handled;

static int accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

static int is_socket(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int ready(struct child *c) {
  if (c->once) return !c->timeout || (c->exited && c->status == 0);
  int sockets = c->n_sockets > 0;
  for (int i = 0; i < c->n_sockets; i++) sockets = sockets && is_socket(c->sockets[i]);
  if (sockets) return 1;
  if (c->port && accepts(c->port)) return 1;
  if (c->file) {
    /* The anchors' ready file alone counts only after a grace: some apps touch it before binding. */
    if (access(c->file, F_OK) != 0) return 0;
    if (c->file_seen == 0) c->file_seen = now();
    return now() - c->file_seen >= c->file_grace;
  }
  return !c->n_sockets && !c->port;
}

static void spawn(struct child *c) {
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (c->relay && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)) die("no pipe for %s", c->role);
  /* On a one-off dyno's terminal the app stays in the terminal's foreground group. */
  c->own_group = !(tty_mode && c->phase == MAIN);
  pid_t pid = fork();
  if (pid < 0) die("cannot start %s", c->role);
  if (pid == 0) {
    if (c->own_group) setsid();
    if (c->relay) dup2(out[1], 1), dup2(err[1], 2);
    /* As bash gives its background jobs: only the app on a terminal reads it. */
    if (c->own_group) {
      int null = open("/dev/null", O_RDONLY);
      if (null >= 0) dup2(null, 0), close(null);
    }
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
    if (c->ignore_term) signal(SIGTERM, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(c->argv[0], c->argv);
    say(c->owner, "error: cannot run %s: %s", c->argv[0], strerror(errno));
    _exit(127);
  }
  c->pid = pid, c->started = 1;
  if (c->relay) {
    close(out[1]), close(err[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK), fcntl(err[0], F_SETFL, O_NONBLOCK);
    c->out_fd = out[0], c->err_fd = err[0];
  }
}

/* ---- stopping ---------------------------------------------------------------------------- */

/* signal_child C SIG: to the child alone, as an `after` rule's signal is meant for that program. */
static void signal_child(struct child *c, int sig) {
  if (c->started && !c->exited) kill(c->pid, sig);
}

/* stop_child C: its stop signal to its whole group, as Heroku's SIGTERM reaches every process of
   a dyno: a stop that begins here (a part died, or SIGTERM reached only us, as under `docker
   stop`) then reaches an app's workers as it would on Heroku. */
static void stop_child(struct child *c) {
  if (c->stop_sig && c->started && !c->exited) kill(c->own_group ? -c->pid : c->pid, c->stop_sig);
}

/* read_proc PID NAME BUF SIZE: /proc/PID/NAME into BUF, NUL-terminated; its length, or -1. */
static ssize_t read_proc(const char *pid, const char *name, char *buf, size_t size) {
  char path[300];
  snprintf(path, sizeof path, "/proc/%s/%s", pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = '\0';
  return n;
}

/* parent_and_group PID PPID PGRP: from /proc/PID/stat (after the command name, which may hold
   spaces and parentheses); 0 if it is gone. */
static int parent_and_group(const char *pid, int *ppid, int *pgrp) {
  char stat[512];
  if (read_proc(pid, "stat", stat, sizeof stat) <= 0) return 0;
  const char *after_comm = strrchr(stat, ')');
  return after_comm && sscanf(after_comm + 1, " %*c %d %d", ppid, pgrp) == 2;
}

/* catches PID SIG: 1 if the process has a handler for SIG (the SigCgt mask of /proc/PID/status),
   or if its mask is past what was read (a Groups line of hundreds of groups comes before it):
   then it is signalled, as everything was before this check. 0 if it is gone. */
static int catches(const char *pid, int sig) {
  char status[4096];
  if (read_proc(pid, "status", status, sizeof status) <= 0) return 0;
  const char *line = strstr(status, "\nSigCgt:");
  unsigned long long mask;
  if (!line || !strchr(line + 1, '\n') || sscanf(line + 8, " %llx", &mask) != 1) return 1;
  return mask >> (sig - 1) & 1;
}

/* resend_stop: the stop signals once more, to what still runs and still has a handler for them.
   A process forked as the first went out can miss it: a gunicorn worker still booting runs its
   master's handler, which only queues the signal, and would then serve on until its master's
   graceful_timeout (30 s, past our deadline). Once it has its own handler, a second signal stops
   it. A process that no longer catches the signal has had it and is on its way out: a gunicorn
   worker in Python's finalization, whose handlers are back to the default. Killed by the second
   signal, it would end by SIGTERM rather than exit 0, and its master's SIGCHLD handler, logging
   that, can fail on a reentrant write to stderr and never count the worker gone (gunicorn
   #2564), leaving the master to wait out its graceful_timeout. The cost: a program started
   after the first signal that has not yet set its handler is not stopped until the deadline.
   Skipping only what existed at the first signal would bring the hang back, as gunicorn forks
   workers until its main loop reads the signal its handler queued. */
static void resend_stop(void) {
  resend_at = 0;
  DIR *proc = opendir("/proc");
  struct dirent *e;
  while (proc && (e = readdir(proc))) {
    int ppid, pgrp;
    if (e->d_name[0] < '1' || e->d_name[0] > '9' || !parent_and_group(e->d_name, &ppid, &pgrp)) continue;
    pid_t pid = atoi(e->d_name);
    for (int i = 0; i < n_children; i++) {
      struct child *c = &children[i];
      if (!c->stop_sig || !c->started || c->exited) continue;
      if ((pid == c->pid || (c->own_group && pgrp == c->pid)) && catches(e->d_name, c->stop_sig)) kill(pid, c->stop_sig);
    }
  }
  if (proc) closedir(proc);
}

static struct child *by_role(const char *role) {
  for (int i = 0; i < n_children; i++)
    if (strcmp(children[i].role, role) == 0) return &children[i];
  return NULL;
}

/* stop_what_waits: in a stop, each `after ROLE SIGNAL` rule whose ROLE is gone, or never started
   (a boot stopped before the app), sends its signal, once. A rule for a role the plan does not
   have (stunnel, in pgbouncer's native TLS) never does. */
static void stop_what_waits(void) {
  if (!shutting_down) return; /* a check that passed at boot ends nothing */
  for (int i = 0; i < n_children; i++)
    for (int j = 0; j < children[i].n_after; j++) {
      struct rule *r = &children[i].after[j];
      struct child *t = by_role(r->role);
      if (r->sent || !t || (t->started && !t->exited)) continue;
      r->sent = 1;
      signal_child(&children[i], r->sig);
    }
}

static void begin_shutdown(const char *fmt, ...) {
  if (shutting_down) return;
  shutting_down = 1;
  char reason[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  if (!quiet_stop) say(voice, "%s: stopping (up to %d s)", reason, stop_timeout);
  deadline = now() + stop_timeout;
  resend_at = now() + 1;
  for (int i = 0; i < n_children; i++) stop_child(&children[i]);
  stop_what_waits();
}

static void give_up(const char *reason) {
  boot_failed = 1;
  begin_shutdown("%s", reason);
}

static struct child *by_pid(pid_t pid) {
  for (int i = 0; i < n_children; i++)
    if (children[i].started && !children[i].exited && children[i].pid == pid) return &children[i];
  return NULL;
}

static int status_of(int w) { return WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w); }

static int is_crash(int w) {
  if (!WIFSIGNALED(w)) return 0;
  int s = WTERMSIG(w);
  return s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE || s == SIGABRT;
}

static void ended(struct child *c, int w) {
  c->exited = 1, c->status = status_of(w);
  if (c->own_group) kill(-c->pid, SIGKILL); /* what it left behind: a killed nginx's workers */
  if (is_crash(w)) crashed = c->status;
  if (c->once && (c->status == 0 || !c->timeout)) {
    /* A check that passed, or one nothing waits for (its failure is its own to say): done. */
    if (c->status && !shutting_down) say(c->owner, "%s ended (status %d)", c->role, c->status);
  } else if (!shutting_down) {
    if (c->phase == MAIN && !main_end_fails) {
      if (tty_mode) quiet_stop = 1;
      begin_shutdown("%s exited (status %d)", c->role, c->status);
    } else if (c->fail && !c->was_ready && c->phase != MAIN) {
      /* It died while we waited for it: the boot failed, for the reason its plan gives. */
      failed = c->status ? c->status : 1;
      say(c->owner, "exited before %s", c->what);
      give_up(c->fail);
    } else {
      failed = c->status ? c->status : 1;
      begin_shutdown("%s exited on its own (status %d)", c->role, c->status);
    }
  } else if (c->killed) {
    say(c->owner, "%s killed: still running %d s after it was asked to stop (status %d)", c->role, stop_timeout, c->status);
  } else if (!quiet_stop || c->status) {
    say(c->owner, "%s stopped (status %d)", c->role, c->status);
  }
  stop_what_waits(); /* every end begins the stop, if it had not begun */
}

static void kill_the_rest(void) {
  for (int i = 0; i < n_children; i++) {
    struct child *c = &children[i];
    if (!c->started || c->exited) continue;
    c->killed = 1;
    if (c->own_group) kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL);
  }
}

/* kill_orphans: what our children left that escaped their groups (a daemonised grandchild) came
   to us, the subreaper: killed and reaped, until none is left. */
static void kill_orphans(void) {
  for (int round = 0; round < 50; round++) {
    int found = 0;
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while (proc && (e = readdir(proc))) {
      int ppid, pgrp;
      if (e->d_name[0] < '1' || e->d_name[0] > '9' || !parent_and_group(e->d_name, &ppid, &pgrp)) continue;
      if (ppid == getpid()) {
        kill(atoi(e->d_name), SIGKILL);
        found = 1;
      }
    }
    if (proc) closedir(proc);
    if (!found) return;
    usleep(20000);
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
  }
}

/* ---- the loop ---------------------------------------------------------------------------- */

/* relay FD TO: what a child wrote to its pipe, passed on; 1 while there may be more. */
static int relay(int *fd, int to) {
  char buf[65536];
  ssize_t n = read(*fd, buf, sizeof buf);
  if (n > 0) {
    for (ssize_t done = 0, k; done < n; done += k) {
      k = write(to, buf + done, n - done);
      if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
        /* A stdout shared as non-blocking: wait for room rather than drop the rest. */
        struct pollfd p = {.fd = to, .events = POLLOUT};
        poll(&p, 1, 1000);
        k = 0;
      } else if (k <= 0) break;
    }
    return 1;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  close(*fd);
  *fd = -1;
  return 0;
}

/* handle_signals SFD: the signals that came in, then every child that ended. */
static void handle_signals(int sfd) {
  struct signalfd_siginfo si;
  while (read(sfd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGTERM) begin_shutdown("got SIGTERM");
    /* A Ctrl-C on a one-off dyno's terminal is the command's, which gets it too. */
    else if (si.ssi_signo == SIGINT && !tty_mode) begin_shutdown("got SIGINT");
  }
  int w;
  pid_t pid;
  while ((pid = waitpid(-1, &w, WNOHANG)) > 0) {
    struct child *c = by_pid(pid);
    if (c) ended(c, w); /* else an orphan this subreaper inherited: reaped, nothing more */
  }
}

/* forbidden C: something accepts on the port C must leave to nginx (the app bound $PORT itself):
   said, and the boot stops. */
static int forbidden(struct child *c) {
  if (!c->forbid_port || !accepts(c->forbid_port)) return 0;
  for (int i = 0; i < c->n_forbid_say; i++) say(c->owner, "%s", c->forbid_say[i]);
  give_up(c->forbid_fail);
  return 1;
}

/* boot: the start sequence, a step per call: the child waited for, once ready, lets the next
   start (order: before, main, after). */
static int order[MAX_CHILDREN], next_step, waiting = -1;
static double wait_since, last_forbid_check;

static void boot(void) {
  while (!shutting_down) {
    if (waiting >= 0) {
      struct child *c = &children[waiting];
      if (c->exited && !(c->once && c->status == 0)) return; /* ended() has begun the stop */
      if (now() - last_forbid_check >= 0.5) {
        last_forbid_check = now();
        if (forbidden(c)) return;
      }
      if (!ready(c)) {
        if (c->timeout && now() - wait_since >= c->timeout) {
          if (c->n_timeout_say)
            for (int i = 0; i < c->n_timeout_say; i++) say(c->owner, "%s", c->timeout_say[i]);
          else
            say(c->owner, "gave up waiting for %s after %d s", c->what, c->timeout);
          give_up(c->fail);
        }
        return;
      }
      if (forbidden(c)) return;
      if (c->ready_say) say(c->owner, "%s", c->ready_say);
      if (c->hold_fd >= 0) close(c->hold_fd), c->hold_fd = -1;
      c->was_ready = 1;
      waiting = -1;
    }
    if (next_step == n_children) return;
    struct child *c = &children[order[next_step++]];
    spawn(c);
    waiting = c - children, wait_since = last_forbid_check = now();
  }
}

/* close_inherited: nothing the scripts had open reaches the children, but the locks they hand us. */
static void close_inherited(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int fds[1024], n = 0;
  while (d && (e = readdir(d)) && n < 1024)
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') fds[n++] = atoi(e->d_name);
  int self = d ? dirfd(d) : -1;
  for (int i = 0; i < n; i++) {
    int held = 0;
    if (fds[i] < 3 || fds[i] == self) continue;
    for (int k = 0; k < n_children; k++) held |= children[k].hold_fd == fds[i];
    if (held) fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    else close(fds[i]);
  }
  if (d) closedir(d);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

int supervise_main(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: supervise PLAN -- [COMMAND...]\n");
    return 2;
  }
  read_plan(argv[1]);
  unlink(argv[1]);
  unsetenv("_NGINX_PGBOUNCER_PLAN"); /* the app's own start scripts begin a plan of their own */
  int mains = 0;
  for (int i = 0; i < n_children; i++) {
    struct child *c = &children[i];
    if (c->phase == MAIN && !c->argv) {
      if (argc == 3) die("no command given for %s", c->role);
      c->argv = argv + 3;
    }
    if (!c->argv) die("no command for %s in the plan", c->role);
    mains += c->phase == MAIN;
  }
  if (mains != 1) die("the plan must name one main child (%s)", mains ? "it names more" : "it names none");
  /* A closed stdin, stdout or stderr would be taken by the next fd we open. */
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) die("cannot open /dev/null as fd %s", fd == 0 ? "0" : fd == 1 ? "1" : "2");
  close_inherited();
  /* A worker or one-off dyno on a terminal (heroku run): its command owns the terminal. A web
     process on one (docker run -it) stops on Ctrl-C as on SIGINT. */
  tty_mode = isatty(0) && !main_end_fails;
  int k = 0;
  for (int p = BEFORE; p <= AFTER; p++)
    for (int i = 0; i < n_children; i++)
      if ((int)children[i].phase == p) order[k++] = i;

  /* Orphans of our children (a killed gunicorn's workers) come to us to be reaped. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  signal(SIGPIPE, SIG_IGN);
  /* Inherited as ignored, SIGCHLD would have the kernel reap our children before we could. */
  signal(SIGCHLD, SIG_DFL);
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM), sigaddset(&handled, SIGINT), sigaddset(&handled, SIGCHLD);
  sigprocmask(SIG_BLOCK, &handled, NULL);
  int sfd = signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("no signalfd: %s", strerror(errno));

  for (;;) {
    boot();
    int live = 0;
    for (int i = 0; i < n_children; i++) live += children[i].started && !children[i].exited;
    struct pollfd fds[1 + 2 * MAX_CHILDREN];
    int *fd_of[1 + 2 * MAX_CHILDREN], out_of[1 + 2 * MAX_CHILDREN], n = 0;
    fds[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    for (int i = 0; i < n_children; i++) {
      struct child *c = &children[i];
      if (c->out_fd >= 0) fd_of[n] = &c->out_fd, out_of[n] = 1, fds[n++] = (struct pollfd){.fd = c->out_fd, .events = POLLIN};
      if (c->err_fd >= 0) fd_of[n] = &c->err_fd, out_of[n] = 2, fds[n++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
    }
    if (!live && shutting_down) {
      /* Everything has ended: what the relays still hold, then stop (an orphan holding a pipe
         open must not keep us). */
      for (int i = 1; i < n; i++) {
        while (relay(fd_of[i], out_of[i])) {}
        if (*fd_of[i] >= 0) close(*fd_of[i]), *fd_of[i] = -1;
      }
      handle_signals(sfd);
      break;
    }
    /* While booting, readiness is polled every 10 ms; after that only signals and logs wake us. */
    int timeout = (waiting >= 0 && !shutting_down) ? 10 : 1000;
    if (resend_at > 0) {
      double left = resend_at - now();
      if (left <= 0) resend_stop();
      else if (left * 1000 < timeout) timeout = (int)(left * 1000) + 1;
    }
    if (shutting_down && deadline > 0) {
      double left = deadline - now();
      if (left <= 0) {
        kill_the_rest();
        deadline = -1;
      } else if (left * 1000 < timeout) timeout = (int)(left * 1000) + 1;
    }
    if (poll(fds, n, timeout) < 0 && errno != EINTR) die("poll: %s", strerror(errno));
    for (int i = 1; i < n; i++)
      if (fds[i].revents) relay(fd_of[i], out_of[i]);
    handle_signals(sfd);
  }

  kill_orphans();
  int status = 1;
  for (int i = 0; i < n_children; i++)
    if (children[i].phase == MAIN && children[i].started) status = children[i].status;
  if (boot_failed) status = 1;
  if (failed >= 0) status = failed;
  if (status == 0 && crashed) status = crashed;
  for (int i = 0; i < n_cleanup; i++) nftw(cleanup_dirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (!quiet_stop || status) say(voice, "stopped (exit status %d)", status);
  return status;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "nginx-samples") == 0) return nginx_samples(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "pool-samples") == 0) return pool_samples(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "pool-budget") == 0) return pool_budget(argc - 1, argv + 1);
  return supervise_main(argc, argv);
}
