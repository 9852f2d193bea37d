/* test_core.c — status names, error messages, features and the thread pool. */
#include "awq_internal.h"
#include "awq_test.h"

#include <string.h>

static void add_range(void *ctx, int64_t b, int64_t e) {
    int *hits = (int *)ctx;
    for (int64_t i = b; i < e; i++) __atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
}

int main(void) {
    CHECK(strcmp(awq_status_name(AWQ_ERR_NULL_POINTER), "AWQ_ERR_NULL_POINTER") == 0);
    CHECK(strcmp(awq_status_name(12345), "AWQ_UNKNOWN_STATUS") == 0);
    CHECK(strcmp(awq_version(), "0.1.0") == 0);
    printf("simd path: %s, features 0x%x\n", awq_simd_path(), awq_features());

    CHECK_STATUS(awq_set_num_threads(0), AWQ_ERR_INVALID_SIZE);
    CHECK(strstr(awq_last_error(), "awq_set_num_threads") != NULL);
    CHECK(strstr(awq_last_error(), "n_threads") != NULL);

    for (int threads = 1; threads <= 4; threads++) {
        CHECK_STATUS(awq_set_num_threads(threads), AWQ_OK);
        CHECK(awq_get_num_threads() == threads);
        for (int64_t n = 1; n < 3000; n = n * 3 + 1) {
            int *hits = calloc((size_t)n, sizeof(int));
            awq_parallel_for(n, 7, add_range, hits);
            for (int64_t i = 0; i < n; i++) CHECK(hits[i] == 1);
            free(hits);
        }
    }
    TEST_MAIN_END();
}
