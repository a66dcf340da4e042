/*
 * What both C load generators (loadgen.c on the unix socket, tlsload.c over mutual TLS) share: clocks, CPU time,
 * the error tally, and the one JSON line bench.ts reads. Header-only so each generator stays one gcc command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static long done, errors;
static double *lat;
static char first_error[200];

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fail(const char *what) {
  errors++;
  if (!first_error[0]) snprintf(first_error, sizeof first_error, "%s", what);
}

static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The run's one JSON line: counts, wall time, latency percentiles, connections, retries, CPU after setup. */
static void report(double t_start, double setup_cpu, long connects, long retries) {
  double secs = (now_ms() - t_start) / 1e3;
  qsort(lat, (size_t)done, sizeof *lat, by_value);
  double cpu = cpu_ms() - setup_cpu;
  for (char *p = first_error; *p; p++) if (*p == '"' || *p == '\\' || (unsigned char)*p < 32) *p = ' ';
  printf("{\"requests\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"p50\":%.3f,\"p99\":%.3f,\"connects\":%ld,\"retries\":%ld,\"cpuMs\":%.1f,\"firstError\":\"%s\"}\n",
    done, errors, secs, done ? lat[done / 2] : 0.0, done ? lat[(long)(done * 0.99)] : 0.0, connects, retries, cpu, first_error);
}
