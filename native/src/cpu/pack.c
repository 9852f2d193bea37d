/*
 * pack.c — INT4 packing: 8 nibbles per 32-bit word along the last dimension.
 *
 * AWQ order puts column 8c + {0,2,4,6,1,3,5,7}[i] in nibble i (AutoAWQ's AWQ_ORDER, chosen by the
 * AWQ authors for fast GPU dequantization); plain order puts column 8c + i in nibble i. A row
 * whose length 8 does not divide ends in a word padded with zero nibbles. Unpacking ignores the
 * padding nibbles. A value outside 0..15 fails the call (naming the first one in row-major order)
 * and leaves packed unspecified. Packing is load/save-time work: scalar, parallel over rows.
 */
#include "awq_numerics.h"

#include <stdatomic.h>

/* nibble i holds column AWQ_ORDER[i] of its group of 8 */
static const int AWQ_ORDER[8] = {0, 2, 4, 6, 1, 3, 5, 7};
static const int PLAIN_ORDER[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static int64_t words_per_row(int64_t cols) { return cols / 8 + (cols % 8 != 0); }

typedef struct pack_job {
    const int32_t *q;
    int32_t *packed;
    int64_t cols, words;
    const int *order;
    atomic_int failed; /* a value outside 0..15 was seen */
} pack_job;

static void pack_rows(void *ctx, int64_t begin, int64_t end) {
    pack_job *job = (pack_job *)ctx;
    const int64_t cols = job->cols;
    for (int64_t r = begin; r < end; r++) {
        const int32_t *qr = job->q + r * cols;
        for (int64_t w = 0; w < job->words; w++) {
            uint32_t word = 0;
            for (int i = 0; i < 8; i++) {
                int64_t c = 8 * w + job->order[i];
                if (c >= cols) continue;
                int32_t v = qr[c];
                if (v < 0 || v > 15) {
                    atomic_store(&job->failed, 1);
                    return;
                }
                word |= (uint32_t)v << (4 * i);
            }
            job->packed[r * job->words + w] = (int32_t)word;
        }
    }
}

typedef struct unpack_job {
    const int32_t *packed;
    int32_t *q;
    int64_t cols, words;
    const int *order;
} unpack_job;

static void unpack_rows(void *ctx, int64_t begin, int64_t end) {
    const unpack_job *job = (const unpack_job *)ctx;
    const int64_t cols = job->cols;
    for (int64_t r = begin; r < end; r++) {
        int32_t *qr = job->q + r * cols;
        for (int64_t w = 0; w < job->words; w++) {
            uint32_t word = (uint32_t)job->packed[r * job->words + w];
            for (int i = 0; i < 8; i++) {
                int64_t c = 8 * w + job->order[i];
                if (c < cols) qr[c] = (int32_t)((word >> (4 * i)) & 0xFu);
            }
        }
    }
}

/* Shared argument checks; on success *order_table and *words are set. */
static int check_pack_args(const char *fn, int64_t rows, int64_t cols, int order, const int **order_table,
                           int64_t *words) {
    AWQ_REQUIRE_POSITIVE(fn, rows);
    AWQ_REQUIRE_POSITIVE(fn, cols);
    if (order == AWQ_PACK_AWQ) *order_table = AWQ_ORDER;
    else if (order == AWQ_PACK_PLAIN) *order_table = PLAIN_ORDER;
    else
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'order' must be AWQ_PACK_AWQ or AWQ_PACK_PLAIN (got %d)",
                        order);
    int64_t numel, n_words;
    *words = words_per_row(cols);
    int st = awq_mul_size(fn, "q", rows, cols, &numel);
    if (st != AWQ_OK) return st;
    return awq_mul_size(fn, "packed", rows, *words, &n_words);
}

int awq_pack_int4(const int32_t *q, int64_t rows, int64_t cols, int order, int32_t *packed) {
    static const char *fn = "awq_pack_int4";
    const int *table = NULL;
    int64_t words = 0;
    int st = check_pack_args(fn, rows, cols, order, &table, &words);
    if (st != AWQ_OK) return st;
    AWQ_REQUIRE_PTR(fn, q);
    AWQ_REQUIRE_PTR(fn, packed);

    pack_job job = {q, packed, cols, words, table, 0};
    int64_t grain = cols >= 16384 ? 1 : 16384 / cols;
    awq_parallel_for(rows, grain, pack_rows, &job);
    if (!atomic_load(&job.failed)) return AWQ_OK;
    /* Error path only: name the first offending value in row-major order, whichever worker saw one. */
    int64_t bad = 0;
    while (q[bad] >= 0 && q[bad] <= 15) bad++;
    return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'q' holds %d at row %lld, column %lld (must be 0..15)",
                    q[bad], (long long)(bad / cols), (long long)(bad % cols));
}

int awq_unpack_int4(const int32_t *packed, int64_t rows, int64_t cols, int order, int32_t *q) {
    static const char *fn = "awq_unpack_int4";
    const int *table = NULL;
    int64_t words = 0;
    int st = check_pack_args(fn, rows, cols, order, &table, &words);
    if (st != AWQ_OK) return st;
    AWQ_REQUIRE_PTR(fn, packed);
    AWQ_REQUIRE_PTR(fn, q);

    unpack_job job = {packed, q, cols, words, table};
    int64_t grain = cols >= 16384 ? 1 : 16384 / cols;
    awq_parallel_for(rows, grain, unpack_rows, &job);
    return AWQ_OK;
}
