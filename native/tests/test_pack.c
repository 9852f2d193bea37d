/* test_pack.c — awq_pack_int4 / awq_unpack_int4: hand-computed words, round trips over random
 * shapes (cols % 8 != 0 included), an independent unpack written from AutoAWQ's documented
 * semantics (shift by 4k, reorder with AWQ_REVERSE_ORDER), padding, bad values and arguments. */
#include "awq_internal.h"
#include "awq_test.h"

#include <string.h>

/* AutoAWQ (awq/utils/packing_utils.py): nibble k of a word is extracted by a shift of 4k; column j
 * of the group of 8 lives in nibble AWQ_REVERSE_ORDER[j]. */
static const int AWQ_REVERSE_ORDER[8] = {0, 4, 1, 5, 2, 6, 3, 7};

static int32_t independent_unpack_awq(const int32_t *packed_row, int64_t col) {
    uint32_t w = (uint32_t)packed_row[col / 8];
    return (int32_t)((w >> (4 * AWQ_REVERSE_ORDER[col % 8])) & 0xF);
}

static void test_hand_computed_words(void) {
    const int32_t q[8] = {0, 1, 2, 3, 4, 5, 6, 7}, q1[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int32_t w;
    CHECK_STATUS(awq_pack_int4(q, 1, 8, AWQ_PACK_AWQ, &w), AWQ_OK);
    CHECK((uint32_t)w == 0x75316420u); /* nibbles hold columns 0,2,4,6,1,3,5,7 */
    CHECK_STATUS(awq_pack_int4(q, 1, 8, AWQ_PACK_PLAIN, &w), AWQ_OK);
    CHECK((uint32_t)w == 0x76543210u);
    CHECK_STATUS(awq_pack_int4(q1, 1, 8, AWQ_PACK_AWQ, &w), AWQ_OK);
    CHECK((uint32_t)w == 0x86427531u); /* top nibble 8: a negative int32 */
    const int32_t all15[8] = {15, 15, 15, 15, 15, 15, 15, 15};
    CHECK_STATUS(awq_pack_int4(all15, 1, 8, AWQ_PACK_AWQ, &w), AWQ_OK);
    CHECK(w == -1);
    /* 3 columns: AWQ puts columns 0,1,2 in nibbles 0,4,1; the rest is zero padding */
    const int32_t q3[3] = {0xA, 0xB, 0xC};
    CHECK_STATUS(awq_pack_int4(q3, 1, 3, AWQ_PACK_AWQ, &w), AWQ_OK);
    CHECK((uint32_t)w == 0x000B00CAu);
    CHECK_STATUS(awq_pack_int4(q3, 1, 3, AWQ_PACK_PLAIN, &w), AWQ_OK);
    CHECK((uint32_t)w == 0x00000CBAu);
}

static void test_round_trips(void) {
    unsigned long long rng = 2024;
    for (int trial = 0; trial < 300; trial++) {
        int64_t rows = 1 + (int64_t)(awq_test_rng(&rng) % 9), cols = 1 + (int64_t)(awq_test_rng(&rng) % 70);
        if (trial == 0) cols = 172; /* stories260K's hidden size */
        int64_t words = (cols + 7) / 8;
        int32_t *q = malloc(rows * cols * sizeof *q), *back = malloc(rows * cols * sizeof *back);
        int32_t *packed = malloc(rows * words * sizeof *packed);
        for (int64_t i = 0; i < rows * cols; i++) q[i] = (int32_t)(awq_test_rng(&rng) % 16);
        for (int order = AWQ_PACK_AWQ; order <= AWQ_PACK_PLAIN; order++) {
            CHECK_STATUS(awq_pack_int4(q, rows, cols, order, packed), AWQ_OK);
            memset(back, 0xFF, rows * cols * sizeof *back);
            CHECK_STATUS(awq_unpack_int4(packed, rows, cols, order, back), AWQ_OK);
            CHECK(memcmp(q, back, rows * cols * sizeof *q) == 0);
            for (int64_t r = 0; r < rows; r++) {
                const int32_t *pr = packed + r * words;
                for (int64_t c = 0; c < cols; c++) {
                    int32_t want = q[r * cols + c];
                    if (order == AWQ_PACK_AWQ) CHECK(independent_unpack_awq(pr, c) == want);
                    else CHECK((((uint32_t)pr[c / 8] >> (4 * (c % 8))) & 0xF) == (uint32_t)want);
                }
                /* padding nibbles of the last word are zero: every value above is in its place,
                 * so the word equals the sum of its columns' contributions */
                uint32_t last = (uint32_t)pr[words - 1], rebuilt = 0;
                for (int64_t c = (words - 1) * 8; c < cols; c++) {
                    int nib = order == AWQ_PACK_AWQ ? AWQ_REVERSE_ORDER[c % 8] : (int)(c % 8);
                    rebuilt |= (uint32_t)q[r * cols + c] << (4 * nib);
                }
                CHECK(last == rebuilt);
            }
        }
        free(q);
        free(back);
        free(packed);
    }
}

/* Unpack of arbitrary words (every nibble value in every position) then pack gives the words back
 * when cols is a multiple of 8 — packing is a bijection on full words. */
static void test_unpack_then_pack(void) {
    unsigned long long rng = 77;
    int32_t packed[4 * 5], q[4 * 40], again[4 * 5];
    for (int i = 0; i < 20; i++) packed[i] = (int32_t)awq_test_rng(&rng);
    packed[0] = (int32_t)0xFEDCBA98u;
    for (int order = AWQ_PACK_AWQ; order <= AWQ_PACK_PLAIN; order++) {
        CHECK_STATUS(awq_unpack_int4(packed, 4, 40, order, q), AWQ_OK);
        CHECK_STATUS(awq_pack_int4(q, 4, 40, order, again), AWQ_OK);
        CHECK(memcmp(packed, again, sizeof packed) == 0);
    }
}

static void test_threads(void) {
    const int64_t rows = 4096, cols = 36, words = 5;
    int32_t *q = malloc(rows * cols * sizeof *q), *p1 = malloc(rows * words * sizeof *p1),
            *p2 = malloc(rows * words * sizeof *p2);
    unsigned long long rng = 5;
    for (int64_t i = 0; i < rows * cols; i++) q[i] = (int32_t)(awq_test_rng(&rng) % 16);
    awq_set_num_threads(1);
    CHECK_STATUS(awq_pack_int4(q, rows, cols, AWQ_PACK_AWQ, p1), AWQ_OK);
    awq_set_num_threads(4);
    CHECK_STATUS(awq_pack_int4(q, rows, cols, AWQ_PACK_AWQ, p2), AWQ_OK);
    CHECK(memcmp(p1, p2, rows * words * sizeof *p1) == 0);
    /* the first bad value in row-major order is named, whichever worker met a bad value first */
    q[3000 * cols + 30] = 16;
    q[4000 * cols + 1] = -1;
    CHECK_STATUS(awq_pack_int4(q, rows, cols, AWQ_PACK_AWQ, p2), AWQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(awq_last_error(), "holds 16 at row 3000, column 30") != NULL);
    free(q);
    free(p1);
    free(p2);
}

#define CHECK_ERROR(expr, status, fn, arg)                                                         \
    do {                                                                                           \
        CHECK_STATUS(expr, status);                                                                \
        CHECK(strstr(awq_last_error(), fn) != NULL);                                               \
        CHECK(strstr(awq_last_error(), "'" arg "'") != NULL);                                      \
    } while (0)

static void test_bad_arguments(void) {
    int32_t q[16] = {0}, p[2] = {0};
    const char *fp = "awq_pack_int4", *fu = "awq_unpack_int4";
    q[9] = 16;
    CHECK_ERROR(awq_pack_int4(q, 2, 8, AWQ_PACK_AWQ, p), AWQ_ERR_INVALID_ARGUMENT, fp, "q");
    CHECK(strstr(awq_last_error(), "row 1, column 1") != NULL);
    q[9] = -1;
    CHECK_ERROR(awq_pack_int4(q, 2, 8, AWQ_PACK_PLAIN, p), AWQ_ERR_INVALID_ARGUMENT, fp, "q");
    q[9] = 0;
    CHECK_ERROR(awq_pack_int4(NULL, 2, 8, AWQ_PACK_AWQ, p), AWQ_ERR_NULL_POINTER, fp, "q");
    CHECK_ERROR(awq_pack_int4(q, 2, 8, AWQ_PACK_AWQ, NULL), AWQ_ERR_NULL_POINTER, fp, "packed");
    CHECK_ERROR(awq_pack_int4(q, 0, 8, AWQ_PACK_AWQ, p), AWQ_ERR_INVALID_SIZE, fp, "rows");
    CHECK_ERROR(awq_pack_int4(q, 2, -8, AWQ_PACK_AWQ, p), AWQ_ERR_INVALID_SIZE, fp, "cols");
    CHECK_ERROR(awq_pack_int4(q, 2, 8, 2, p), AWQ_ERR_INVALID_ARGUMENT, fp, "order");
    CHECK_ERROR(awq_pack_int4(q, 2, 8, -1, p), AWQ_ERR_INVALID_ARGUMENT, fp, "order");
    CHECK_ERROR(awq_pack_int4(q, INT64_MAX / 4, 8, AWQ_PACK_AWQ, p), AWQ_ERR_OVERFLOW, fp, "q");
    CHECK_ERROR(awq_unpack_int4(NULL, 2, 8, AWQ_PACK_AWQ, q), AWQ_ERR_NULL_POINTER, fu, "packed");
    CHECK_ERROR(awq_unpack_int4(p, 2, 8, AWQ_PACK_AWQ, NULL), AWQ_ERR_NULL_POINTER, fu, "q");
    CHECK_ERROR(awq_unpack_int4(p, -2, 8, AWQ_PACK_AWQ, q), AWQ_ERR_INVALID_SIZE, fu, "rows");
    CHECK_ERROR(awq_unpack_int4(p, 2, 0, AWQ_PACK_AWQ, q), AWQ_ERR_INVALID_SIZE, fu, "cols");
    CHECK_ERROR(awq_unpack_int4(p, 2, 8, 7, q), AWQ_ERR_INVALID_ARGUMENT, fu, "order");
}

int main(void) {
    test_hand_computed_words();
    test_round_trips();
    test_unpack_then_pack();
    test_threads();
    test_bad_arguments();
    TEST_MAIN_END();
}
