/*
 * activations.c — SwiGLU's silu(gate) * up and the row softmax (also used by awq_attention).
 *
 * Elementwise and cheap next to the GEMMs around them, so one scalar path with libm's expf
 * (< 1 ulp) serves every CPU; the rows are spread over the pool when there are enough of them.
 */
#include "layers_internal.h"

#include <math.h>

#define SILU_MIN_ELEMS_PER_CHUNK (32 * 1024)
#define SOFTMAX_MIN_ELEMS_PER_CHUNK (32 * 1024)

/* ---- silu(gate) * up ---------------------------------------------------------------------------- */
typedef struct silu_job {
    const float *gate, *up;
    float *out;
} silu_job;

static void silu_range(void *ctx, int64_t begin, int64_t end) {
    const silu_job *j = (const silu_job *)ctx;
    for (int64_t i = begin; i < end; i++) {
        float g = j->gate[i];
        /* g -> -inf: expf(-g) = inf and g / inf = -0, the right limit, no overflow trap */
        j->out[i] = (g / (1.0f + expf(-g))) * j->up[i];
    }
}

int awq_silu_mul(const float *gate, const float *up, int64_t n, float *out) {
    static const char fn[] = "awq_silu_mul";
    AWQ_REQUIRE_PTR(fn, gate);
    AWQ_REQUIRE_PTR(fn, up);
    AWQ_REQUIRE_PTR(fn, out);
    AWQ_REQUIRE_POSITIVE(fn, n);
    int64_t bytes;
    int st = awq_mul_size(fn, "out", n, (int64_t)sizeof(float), &bytes);
    if (st != AWQ_OK) return st;
    silu_job j = {gate, up, out};
    awq_parallel_for(n, SILU_MIN_ELEMS_PER_CHUNK, silu_range, &j);
    return AWQ_OK;
}

/* ---- softmax ------------------------------------------------------------------------------------ */
void awq_softmax_row(float *x, int64_t n) {
    float mx = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > mx) mx = x[i];
    /* every exponent is <= 0 after subtracting the max: no overflow, and the max maps to 1 */
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float e = expf(x[i] - mx);
        x[i] = e;
        sum += (double)e;
    }
    /* the sum is >= 1, so the division is safe; done in double and rounded once */
    for (int64_t i = 0; i < n; i++) x[i] = (float)((double)x[i] / sum);
}

typedef struct softmax_job {
    float *x;
    int64_t n;
} softmax_job;

static void softmax_rows(void *ctx, int64_t begin, int64_t end) {
    const softmax_job *j = (const softmax_job *)ctx;
    for (int64_t m = begin; m < end; m++) awq_softmax_row(j->x + m * j->n, j->n);
}

int awq_softmax(float *x, int64_t M, int64_t n) {
    static const char fn[] = "awq_softmax";
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, n);
    int64_t elems, bytes;
    int st;
    if ((st = awq_mul_size(fn, "x", M, n, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "x", elems, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    softmax_job j = {x, n};
    awq_parallel_for(M, SOFTMAX_MIN_ELEMS_PER_CHUNK / n + 1, softmax_rows, &j);
    return AWQ_OK;
}
