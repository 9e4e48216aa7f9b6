/* The supervisor (supervise.c) and the samplers it runs as children of its own (samples.c). */
#ifndef SUPERVISE_H
#define SUPERVISE_H

void say(const char *owner, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* supervise nginx-samples PORT PERIOD */
int nginx_samples(int argc, char **argv);
/* supervise pool-samples POOLER_DIR PORT PERIOD */
int pool_samples(int argc, char **argv);
/* supervise pool-budget OWNER POOLER_DIR PORT MOST BUDGET REFUSE DB USER [DB USER]... */
int pool_budget(int argc, char **argv);

#endif
