/* status.c — status names and the thread-local "last error" message behind awq_last_error(). */
#include "awq_internal.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[512];

const char *awq_status_name(int status) {
    switch (status) {
    case AWQ_OK: return "AWQ_OK";
    case AWQ_ERR_NULL_POINTER: return "AWQ_ERR_NULL_POINTER";
    case AWQ_ERR_INVALID_SIZE: return "AWQ_ERR_INVALID_SIZE";
    case AWQ_ERR_INVALID_GROUP_SIZE: return "AWQ_ERR_INVALID_GROUP_SIZE";
    case AWQ_ERR_SIZE_MISMATCH: return "AWQ_ERR_SIZE_MISMATCH";
    case AWQ_ERR_INVALID_BITS: return "AWQ_ERR_INVALID_BITS";
    case AWQ_ERR_INVALID_ARGUMENT: return "AWQ_ERR_INVALID_ARGUMENT";
    case AWQ_ERR_OUT_OF_MEMORY: return "AWQ_ERR_OUT_OF_MEMORY";
    case AWQ_ERR_UNSUPPORTED: return "AWQ_ERR_UNSUPPORTED";
    case AWQ_ERR_OVERFLOW: return "AWQ_ERR_OVERFLOW";
    case AWQ_ERR_DEVICE: return "AWQ_ERR_DEVICE";
    default: return "AWQ_UNKNOWN_STATUS";
    }
}

const char *awq_last_error(void) { return last_error; }

int awq_fail(int status, const char *func, const char *fmt, ...) {
    int used = snprintf(last_error, sizeof last_error, "%s: ", func);
    if (used < 0) used = 0;
    if ((size_t)used < sizeof last_error) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(last_error + used, sizeof last_error - (size_t)used, fmt, ap);
        va_end(ap);
    }
    return status;
}

int awq_mul_size(const char *fn, const char *what, int64_t a, int64_t b, int64_t *out) {
    if (a > 0 && b > INT64_MAX / a)
        return awq_fail(AWQ_ERR_OVERFLOW, fn, "size of '%s' overflows (%lld x %lld)", what,
                        (long long)a, (long long)b);
    *out = a * b;
    return AWQ_OK;
}
