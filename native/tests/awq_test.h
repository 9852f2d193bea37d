/* awq_test.h — a minimal assertion harness for the ctest executables (no framework needed). */
#ifndef AWQ_TEST_H
#define AWQ_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int awq_test_failures = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            awq_test_failures++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STATUS(expr, expected)                                                               \
    do {                                                                                           \
        int s_ = (expr);                                                                           \
        if (s_ != (expected)) {                                                                    \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__, __LINE__, #expr, \
                    awq_status_name(s_), awq_status_name(expected), awq_last_error());             \
            awq_test_failures++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol))) {                                                           \
            fprintf(stderr, "%s:%d: |%s - %s| = |%g - %g| > %g\n", __FILE__, __LINE__, #a, #b, a_,  \
                    b_, (double)(tol));                                                            \
            awq_test_failures++;                                                                   \
        }                                                                                          \
    } while (0)

#define TEST_MAIN_END()                                                                            \
    do {                                                                                           \
        if (awq_test_failures) {                                                                   \
            fprintf(stderr, "%d check(s) failed\n", awq_test_failures);                            \
            return 1;                                                                              \
        }                                                                                          \
        printf("ok\n");                                                                            \
        return 0;                                                                                  \
    } while (0)

/* xorshift64* — deterministic test data without libc rand() state */
static inline unsigned long long awq_test_rng(unsigned long long *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}
static inline float awq_test_uniform(unsigned long long *s, float lo, float hi) {
    return lo + (hi - lo) * (float)((awq_test_rng(s) >> 40) * (1.0 / 16777216.0));
}

#endif
