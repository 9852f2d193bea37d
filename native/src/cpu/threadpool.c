/*
 * threadpool.c — the library's only global mutable state: a pool of persistent worker threads.
 *
 * One job at a time. awq_parallel_for splits [0, n) into at most 8 chunks per thread, publishes the
 * job, wakes the workers and works too. Chunks are claimed from one atomic word that packs
 * (job generation, chunk count, next chunk): a claim succeeds only for the current job and only
 * while chunks remain, so a worker that wakes up late can never run a chunk of a job that has
 * finished or of the next one. The caller returns as soon as every chunk is DONE — it never waits
 * for idle workers to notice the job (on a loaded machine that wait costs a scheduler slice).
 *
 * Waiting: workers spin briefly (decode issues many small kernels back to back, and a futex wake
 * per kernel would cost more than the work — llama.cpp spins too), then sleep on a condition
 * variable; the caller spins briefly on unfinished chunks, then yields its core.
 * If another thread already owns the pool (two managed threads calling in), the second caller
 * simply runs its range itself — correct, never blocked, just not parallel.
 */
#include "awq_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define AWQ_MAX_THREADS 256
#define AWQ_MAX_CHUNKS 0xFFFF
#define AWQ_WORKER_SPINS 4000  /* ~100 µs of PAUSE before a worker sleeps */
#define AWQ_CALLER_SPINS 2000  /* then the caller yields while others finish their chunks */
/* Chunks per thread: claimed dynamically, so the threads' finishing times differ by at most one
 * chunk; 8 keeps that tail (the caller waits through it on every kernel) near 1/16 of a job. */
#define AWQ_CHUNKS_PER_THREAD 8

/* cursor word: generation (high 32 bits) | chunk count (16 bits) | next chunk (16 bits) */
#define CUR_GEN(c) ((uint32_t)((c) >> 32))
#define CUR_COUNT(c) ((uint32_t)(((c) >> 16) & 0xFFFF))
#define CUR_NEXT(c) ((uint32_t)((c) & 0xFFFF))

typedef struct pool {
    pthread_mutex_t owner;        /* held by the thread running a parallel_for */
    pthread_mutex_t lock;         /* guards sleeping/waking */
    pthread_cond_t wake;
    pthread_t threads[AWQ_MAX_THREADS];
    int n_workers;                /* threads besides the caller */
    atomic_uint generation;       /* bumped per job; sleeping workers wait for a change */
    atomic_int stop;
    _Atomic uint64_t cursor;      /* see CUR_* */
    atomic_long done;             /* chunks finished in the current job */
    /* current job: written before the cursor is published, stable until every chunk is done */
    awq_range_fn fn;
    void *ctx;
    int64_t n, chunk;
} pool;

static pool g_pool = {.owner = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
                      .wake = PTHREAD_COND_INITIALIZER};
static pthread_mutex_t g_config = PTHREAD_MUTEX_INITIALIZER;
static int g_threads = 0; /* 0 = not yet configured */
static _Thread_local int tls_in_worker = 0;

static inline void cpu_relax(void) {
#if AWQ_X86
    __builtin_ia32_pause();
#endif
}

/* Claims and runs chunks of job `gen` until none is left. */
static void run_chunks(pool *p, uint32_t gen) {
    uint64_t c = atomic_load_explicit(&p->cursor, memory_order_acquire);
    for (;;) {
        if (CUR_GEN(c) != gen || CUR_NEXT(c) >= CUR_COUNT(c)) return;
        if (!atomic_compare_exchange_weak_explicit(&p->cursor, &c, c + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* c was reloaded */
        /* The claim succeeded, so job `gen` is not finished: its fields are still valid. */
        int64_t begin = (int64_t)CUR_NEXT(c) * p->chunk;
        int64_t end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
        p->fn(p->ctx, begin, end);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
        c = atomic_load_explicit(&p->cursor, memory_order_acquire);
    }
}

static void *worker_main(void *arg) {
    pool *p = (pool *)arg;
    tls_in_worker = 1;
    unsigned seen = 0;
    for (;;) {
        int spins = 0;
        unsigned gen;
        while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               !atomic_load(&p->stop)) {
            if (++spins < AWQ_WORKER_SPINS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->lock);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = gen;
        run_chunks(p, gen);
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

/* Generation 0 means "no job yet"; workers start having seen it. */
static int pool_start(pool *p, int n_threads) {
    int started = 0;
    atomic_store(&p->generation, 0);
    atomic_store(&p->cursor, 0);
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
    /* about AWQ_CHUNKS_PER_THREAD chunks per thread for balance, never below the grain */
    int64_t chunk = (n + (int64_t)total * AWQ_CHUNKS_PER_THREAD - 1) / ((int64_t)total * AWQ_CHUNKS_PER_THREAD);
    if (chunk < grain) chunk = grain;
    int64_t count = (n + chunk - 1) / chunk;
    if (count > AWQ_MAX_CHUNKS) {
        chunk = (n + AWQ_MAX_CHUNKS - 1) / AWQ_MAX_CHUNKS;
        count = (n + chunk - 1) / chunk;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    uint32_t gen = atomic_load(&p->generation) + 1;
    if (gen == 0) gen = 1;
    atomic_store_explicit(&p->cursor, ((uint64_t)gen << 32) | ((uint64_t)count << 16), memory_order_release);
    pthread_mutex_lock(&p->lock);
    atomic_store_explicit(&p->generation, gen, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);

    tls_in_worker = 1; /* nested parallel_for from fn runs inline */
    run_chunks(p, gen);
    tls_in_worker = 0;
    for (int spins = 0; atomic_load_explicit(&p->done, memory_order_acquire) < count; spins++) {
        if (spins < AWQ_CALLER_SPINS) cpu_relax();
        else sched_yield();
    }
    pthread_mutex_unlock(&p->owner);
}
