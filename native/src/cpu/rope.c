/*
 * rope.c — in-place rotary position embedding, interleaved-pair layout (llama.cpp's
 * LLAMA_ROPE_TYPE_NORM, Meta's reference, llama2.c): pair (2i, 2i+1) of every head of row m is
 * rotated by angle pos[m] * theta^(-2i/rot_dim) / freq_factors[i] (factors optional: ggml's
 * rope_ext "freq_factors", how Llama 3.1's frequency scaling reaches the kernel); dimensions at or
 * beyond rot_dim pass through.
 *
 * The angle and its cosine/sine are computed in double and rounded once to fp32. At position
 * 2000 an fp32 angle (fp32 inverse frequency times fp32 position, as most runtimes do) is already
 * off by ~1e-4 rad; in double the only error left is the final rounding of cos and sin. A row's
 * table serves all its heads: M * rot_dim / 2 cos/sin pairs per call, not M * n_heads * rot_dim / 2.
 */
#include "awq_internal.h"

#include <math.h>

/* pairs whose cos/sin are tabulated at once (stack: 2 x 64 floats) */
#define ROPE_PAIRS_PER_BLOCK 64
#define ROPE_MIN_ELEMS_PER_CHUNK (32 * 1024)

typedef struct rope_job {
    float *x;
    const int32_t *pos;
    int64_t n_heads, head_dim, rot_dim;
    double theta;
    const float *freq_factors; /* [rot_dim/2] or NULL */
} rope_job;

static void rope_rows(void *ctx, int64_t begin, int64_t end) {
    const rope_job *j = (const rope_job *)ctx;
    const int64_t half = j->rot_dim / 2;
    float cs[ROPE_PAIRS_PER_BLOCK], sn[ROPE_PAIRS_PER_BLOCK];
    for (int64_t m = begin; m < end; m++) {
        const double p = (double)j->pos[m];
        float *row = j->x + m * j->n_heads * j->head_dim;
        for (int64_t i0 = 0; i0 < half; i0 += ROPE_PAIRS_PER_BLOCK) {
            int64_t cnt = half - i0 < ROPE_PAIRS_PER_BLOCK ? half - i0 : ROPE_PAIRS_PER_BLOCK;
            for (int64_t i = 0; i < cnt; i++) {
                double angle = p * pow(j->theta, -2.0 * (double)(i0 + i) / (double)j->rot_dim);
                if (j->freq_factors != NULL) angle /= (double)j->freq_factors[i0 + i];
                cs[i] = (float)cos(angle);
                sn[i] = (float)sin(angle);
            }
            for (int64_t h = 0; h < j->n_heads; h++) {
                float *v = row + h * j->head_dim + 2 * i0;
                for (int64_t i = 0; i < cnt; i++) {
                    float x0 = v[2 * i], x1 = v[2 * i + 1];
                    v[2 * i] = x0 * cs[i] - x1 * sn[i];
                    v[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
                }
            }
        }
    }
}

/* The argument checks of both entry points (and of awq_dev_rope); fn names the one called. */
int awq_rope_validate(const char *fn, const float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                      const int32_t *pos, float theta, const float *freq_factors) {
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_PTR(fn, pos);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, n_heads);
    AWQ_REQUIRE_POSITIVE(fn, head_dim);
    AWQ_REQUIRE_POSITIVE(fn, rot_dim);
    if (rot_dim % 2 != 0)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'rot_dim' must be even (got %lld)",
                        (long long)rot_dim);
    if (rot_dim > head_dim)
        return awq_fail(AWQ_ERR_INVALID_SIZE, fn,
                        "argument 'rot_dim' (%lld) must not exceed 'head_dim' (%lld)",
                        (long long)rot_dim, (long long)head_dim);
    if (!(theta > 0.0f) || isinf(theta))
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'theta' must be finite and > 0 (got %g)",
                        (double)theta);
    int64_t row, n, bytes;
    int st;
    if ((st = awq_mul_size(fn, "x", n_heads, head_dim, &row)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "x", M, row, &n)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "x", n, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    /* checked before anything is rotated, so a bad position leaves x untouched */
    for (int64_t m = 0; m < M; m++)
        if (pos[m] < 0)
            return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'pos' must be >= 0 (pos[%lld] = %d)",
                            (long long)m, (int)pos[m]);

    if (freq_factors != NULL)
        for (int64_t i = 0; i < rot_dim / 2; i++)
            if (!(freq_factors[i] > 0.0f) || isinf(freq_factors[i]))
                return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn,
                                "argument 'freq_factors' must be finite and > 0 (freq_factors[%lld] = %g)",
                                (long long)i, (double)freq_factors[i]);

    return AWQ_OK;
}

static int rope_checked(const char *fn, float *x, int64_t M, int64_t n_heads, int64_t head_dim,
                        int64_t rot_dim, const int32_t *pos, float theta,
                        const float *freq_factors) {
    int st = awq_rope_validate(fn, x, M, n_heads, head_dim, rot_dim, pos, theta, freq_factors);
    if (st != AWQ_OK) return st;
    const int64_t row = n_heads * head_dim;
    rope_job j = {x, pos, n_heads, head_dim, rot_dim, (double)theta, freq_factors};
    awq_parallel_for(M, ROPE_MIN_ELEMS_PER_CHUNK / row + 1, rope_rows, &j);
    return AWQ_OK;
}

int awq_rope(float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
             const int32_t *pos, float theta) {
    return rope_checked("awq_rope", x, M, n_heads, head_dim, rot_dim, pos, theta, NULL);
}

int awq_rope_ext(float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                 const int32_t *pos, float theta, const float *freq_factors) {
    return rope_checked("awq_rope_ext", x, M, n_heads, head_dim, rot_dim, pos, theta, freq_factors);
}
