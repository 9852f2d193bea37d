/*
 * threadpool.c — the library's only global mutable state: a pool of persistent worker threads.
 *
 * One job at a time: awq_parallel_for publishes {fn, ctx, n, grain}, wakes the workers, and the
 * caller works too. Chunks are claimed with an atomic counter, so uneven rows balance themselves.
 * Workers spin briefly before sleeping on a condition variable: decode issues many small kernels
 * back to back, and a futex wake per kernel would cost more than the work (llama.cpp spins too).
 * If another thread already owns the pool (two managed threads calling in), the second caller
 * simply runs its range itself — correct, never blocked, just not parallel.
 */
#include "awq_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define AWQ_MAX_THREADS 256
#define AWQ_SPIN_ITERS 20000

typedef struct pool {
    pthread_mutex_t owner;        /* held by the thread running a parallel_for */
    pthread_mutex_t lock;         /* guards sleeping/waking */
    pthread_cond_t wake;
    pthread_t threads[AWQ_MAX_THREADS];
    int n_workers;                /* threads besides the caller */
    atomic_int generation;        /* bumped per job; workers wait for a change */
    atomic_int stop;
    /* current job */
    awq_range_fn fn;
    void *ctx;
    int64_t n, chunk;
    atomic_llong next;            /* next chunk start */
    atomic_int busy;              /* workers still inside the current job */
    int start_generation;         /* generation when the workers were created */
} pool;

static pool g_pool = {.owner = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
                      .wake = PTHREAD_COND_INITIALIZER};
static pthread_mutex_t g_config = PTHREAD_MUTEX_INITIALIZER;
static int g_threads = 0; /* 0 = not yet configured */
static _Thread_local int tls_in_worker = 0;

static void run_chunks(pool *p) {
    for (;;) {
        int64_t begin = atomic_fetch_add(&p->next, p->chunk);
        if (begin >= p->n) break;
        int64_t end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
        p->fn(p->ctx, begin, end);
    }
}

static void *worker_main(void *arg) {
    pool *p = (pool *)arg;
    tls_in_worker = 1;
    /* Not atomic_load(&p->generation): a job may already have been published before this thread
     * got here, and it must not be mistaken for the one we have seen. */
    int seen = p->start_generation;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
               !atomic_load(&p->stop)) {
            if (++spins < AWQ_SPIN_ITERS) {
#if AWQ_X86
                __builtin_ia32_pause();
#endif
                continue;
            }
            pthread_mutex_lock(&p->lock);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = atomic_load(&p->generation);
        run_chunks(p);
        atomic_fetch_sub_explicit(&p->busy, 1, memory_order_release);
    }
}

static void pool_stop(pool *p) {
    if (p->n_workers == 0) return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_workers; i++) pthread_join(p->threads[i], NULL);
    p->n_workers = 0;
    atomic_store(&p->stop, 0);
}

static int pool_start(pool *p, int n_threads) {
    int started = 0;
    p->start_generation = atomic_load(&p->generation);
    for (int i = 0; i < n_threads - 1 && i < AWQ_MAX_THREADS; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) break;
        started++;
    }
    p->n_workers = started;
    return started + 1;
}

static int default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > AWQ_MAX_THREADS ? AWQ_MAX_THREADS : (int)n);
}

static void ensure_started(void) {
    pthread_mutex_lock(&g_config);
    if (g_threads == 0) {
        pthread_mutex_lock(&g_pool.owner);
        g_threads = pool_start(&g_pool, default_threads());
        pthread_mutex_unlock(&g_pool.owner);
    }
    pthread_mutex_unlock(&g_config);
}

int awq_set_num_threads(int n_threads) {
    if (n_threads <= 0 || n_threads > AWQ_MAX_THREADS)
        return awq_fail(AWQ_ERR_INVALID_SIZE, "awq_set_num_threads",
                        "argument 'n_threads' must be in 1..%d (got %d)", AWQ_MAX_THREADS, n_threads);
    pthread_mutex_lock(&g_config);
    pthread_mutex_lock(&g_pool.owner); /* wait for a running job to finish */
    pool_stop(&g_pool);
    g_threads = pool_start(&g_pool, n_threads);
    pthread_mutex_unlock(&g_pool.owner);
    pthread_mutex_unlock(&g_config);
    return AWQ_OK;
}

int awq_get_num_threads(void) {
    ensure_started();
    return g_threads;
}

void awq_parallel_for(int64_t n, int64_t grain, awq_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (g_threads == 0) ensure_started();
    if (n <= grain || tls_in_worker || g_pool.n_workers == 0 ||
        pthread_mutex_trylock(&g_pool.owner) != 0) {
        fn(ctx, 0, n);
        return;
    }
    pool *p = &g_pool;
    int total = p->n_workers + 1;
    /* about 4 chunks per thread for balance, never below the grain */
    int64_t chunk = (n + (int64_t)total * 4 - 1) / ((int64_t)total * 4);
    if (chunk < grain) chunk = grain;
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk;
    atomic_store(&p->next, 0);
    atomic_store(&p->busy, p->n_workers);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);

    tls_in_worker = 1; /* nested parallel_for from fn runs inline */
    run_chunks(p);
    tls_in_worker = 0;
    while (atomic_load_explicit(&p->busy, memory_order_acquire) > 0) {
#if AWQ_X86
        __builtin_ia32_pause();
#endif
    }
    pthread_mutex_unlock(&p->owner);
}
