/* tofu — the reliability suite: the fuzz targets (fuzz/) run on every input
 * of their seed corpus and on every crash input kept as a regression
 * (fuzz/corpus/<target>/, fuzz/regressions/<target>/), then on a few thousand
 * random mutations of those inputs. This runs with any compiler, on every
 * backend; ci/fuzz.sh runs the same targets under libFuzzer. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "suite.h"

typedef int (*fuzz_fn)(const uint8_t *, size_t);

static const struct {
  const char *name;
  fuzz_fn fn;
} targets[] = {
    {"wire", fuzz_wire_one},
    {"headers", fuzz_headers_one},
    {"address", fuzz_address_one},
};

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + len, 1, cap - len, f)) > 0) {
    len += r;
    if (len == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  fclose(f);
  *n = len;
  return buf;
}

static uint32_t mut_state = 12345;
static uint32_t mut_rand(void) {
  mut_state ^= mut_state << 13;
  mut_state ^= mut_state >> 17;
  mut_state ^= mut_state << 5;
  return mut_state;
}

/* Run fn on every file of dir and on `mutations` mutations of each. */
static long replay_dir(const char *dir, fuzz_fn fn, int mutations) {
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  long runs = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    size_t n = 0;
    uint8_t *buf = read_all(path, &n);
    if (!buf)
      continue;
    fn(buf, n);
    runs++;
    uint8_t *mut = malloc(n + 64);
    for (int i = 0; i < mutations; i++) {
      size_t m = n;
      memcpy(mut, buf, n);
      int edits = 1 + (int)(mut_rand() % 4);
      for (int k = 0; k < edits; k++) {
        uint32_t r = mut_rand();
        if (m > 0 && r % 3 == 0)
          mut[r / 3 % m] = (uint8_t)mut_rand();
        else if (r % 3 == 1 && m > 0)
          m = (size_t)(r / 3 % m); /* truncate */
        else if (m < n + 64)
          mut[m++] = (uint8_t)mut_rand();
      }
      fn(mut, m);
      runs++;
    }
    free(mut);
    free(buf);
  }
  closedir(d);
  return runs;
}

void case_fuzz_corpus_replay(void) {
  long total = 0;
  int mutations = (int)rel_env("TOFU_REL_FUZZ_MUTATIONS", 200);
  for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/corpus/%s", TOFU_FUZZ_DIR, targets[t].name);
    long seeds = replay_dir(dir, targets[t].fn, mutations);
    ck_assert_msg(seeds > 0, "no seed corpus in %s", dir);
    snprintf(dir, sizeof dir, "%s/regressions/%s", TOFU_FUZZ_DIR, targets[t].name);
    long regress = replay_dir(dir, targets[t].fn, 0);
    printf("fuzz %s: %ld runs over the corpus and its mutations, %ld regression inputs\n",
           targets[t].name, seeds, regress);
    total += seeds + regress;
  }
  rel_figure("fuzz_replay_runs", (double)total);
}
