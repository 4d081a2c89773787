// A pool of persistent worker threads for the kernels' parallel loops (`ParallelWork` in Swift).
//
// Why not DispatchQueue.concurrentPerform: each call wakes sleeping threads through the kernel
// and puts them back to sleep, tens of microseconds a call, which is the whole time of a small
// convolution (a MobileNet-style layer at 112x112 runs in 20-80 microseconds), so two threads
// ran no faster than one. Here the workers spin for a short while (`QAT_POOL_SPIN_NS`) after
// each job, so the next parallel loop of the same run (microseconds later) finds them awake;
// only then do they sleep on a condition variable. The spin yields the processor every few
// dozen pauses, so a spinning worker never slows a thread that shares its core (measured: an
// LSTM whose loops are far apart ran at half speed in phases when the worker only paused).
//
// One job at a time: `qat_pool_run` returns 0 at once when another thread's job holds the pool
// (a second sample lane, or a loop nested inside a job), and the caller runs the loop some other
// way. Items are handed out one at a time from a ticket (job epoch in the high 32 bits, next
// index in the low 32), so a worker that wakes late can take an item only of the job it saw: the
// compare-and-swap fails once the epoch has moved on. The caller takes items too and returns
// when every item is done; a worker that never woke up delays nothing.
#include "CIntegerKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_POOL_PAUSE() _mm_pause()
#else
#define QAT_POOL_PAUSE() ((void)0)
#endif

/// How long an idle worker keeps checking for a new job before it sleeps (nanoseconds).
#define QAT_POOL_SPIN_NS 200000
/// The most worker threads the pool starts (the machine's processors minus the caller's).
#define QAT_POOL_MAX_WORKERS 63

typedef struct {
  /// Job epoch << 32 | index of the next item to hand out.
  _Atomic uint64_t ticket;
  /// Items of the current job (written before its epoch is published).
  _Atomic uint32_t iterations;
  /// Items of the current job that have finished.
  _Atomic uint32_t done;
  /// The current job's body and context, valid while one of its items is not done.
  void (*_Atomic body)(void *context, int index);
  void *_Atomic context;
  /// Held by the thread whose job the pool runs.
  atomic_flag busy;
  /// Workers asleep (or about to sleep) on `wake`.
  _Atomic int sleepers;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int workers;
} qat_pool;

static qat_pool pool = {.busy = ATOMIC_FLAG_INIT, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static uint64_t now_ns(void) {
  struct timespec time;
  clock_gettime(CLOCK_MONOTONIC, &time);
  return (uint64_t)time.tv_sec * 1000000000u + (uint64_t)time.tv_nsec;
}

/// Takes and runs items of job `epoch` until none is left (or the pool has moved to a later job).
static void take_items(uint32_t epoch) {
  while (1) {
    uint64_t ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
    if ((uint32_t)(ticket >> 32) != epoch) return;
    uint32_t index = (uint32_t)ticket;
    if (index >= atomic_load_explicit(&pool.iterations, memory_order_acquire)) return;
    if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &ticket, ticket + 1, memory_order_acq_rel,
                                               memory_order_acquire))
      continue;
    // The item is ours and not done, so the job is still current: its body and context hold.
    void (*body)(void *, int) = atomic_load_explicit(&pool.body, memory_order_relaxed);
    void *context = atomic_load_explicit(&pool.context, memory_order_relaxed);
    body(context, (int)index);
    atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
  }
}

/// Waits for a job later than `seen`: spinning first, then asleep on the condition variable.
static uint32_t wait_for_job(uint32_t seen) {
  uint64_t started = 0;
  for (unsigned spins = 0;; spins++) {
    uint32_t epoch = (uint32_t)(atomic_load_explicit(&pool.ticket, memory_order_acquire) >> 32);
    if (epoch != seen) return epoch;
    QAT_POOL_PAUSE();
    if ((spins & 63) != 63) continue;
    // Another thread that wants this core (the caller between its loops, a thread reading the
    // next sample) gets it: a worker that only paused took half the core from it.
    sched_yield();
    uint64_t now = now_ns();
    if (started == 0) started = now;
    if (now - started < QAT_POOL_SPIN_NS) continue;
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add(&pool.sleepers, 1);
    // Either the caller sees `sleepers` and signals under the lock, or this load sees its epoch.
    while ((uint32_t)(atomic_load(&pool.ticket) >> 32) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.lock);
    started = 0;
  }
}

static void *worker_main(void *unused) {
  (void)unused;
  uint32_t seen = 0;
  while (1) {
    seen = wait_for_job(seen);
    take_items(seen);
  }
  return NULL;
}

static void start_workers(void) {
  long processors = sysconf(_SC_NPROCESSORS_ONLN);
  int wanted = processors > 1 ? (int)(processors - 1) : 0;
  if (wanted > QAT_POOL_MAX_WORKERS) wanted = QAT_POOL_MAX_WORKERS;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  for (int i = 0; i < wanted; i++) {
    pthread_t thread;
    if (pthread_create(&thread, &attributes, worker_main, NULL) == 0) pool.workers++;
  }
  pthread_attr_destroy(&attributes);
}

int qat_pool_run(int iterations, void (*body)(void *context, int index), void *context) {
  if (iterations <= 0) return 1;
  (void)pthread_once(&pool_once, start_workers);
  if (pool.workers == 0 || atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) return 0;
  // Close the last job's ticket first: a worker that read it before and the new `iterations`
  // after must fail its compare-and-swap, not take an item of the old epoch with the new body.
  uint64_t last = atomic_load_explicit(&pool.ticket, memory_order_relaxed);
  atomic_store(&pool.ticket, last | UINT32_MAX);
  atomic_store_explicit(&pool.body, body, memory_order_relaxed);
  atomic_store_explicit(&pool.context, context, memory_order_relaxed);
  atomic_store_explicit(&pool.iterations, (uint32_t)iterations, memory_order_relaxed);
  atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
  const uint32_t epoch = (uint32_t)(last >> 32) + 1;
  atomic_store(&pool.ticket, (uint64_t)epoch << 32);
  if (atomic_load(&pool.sleepers) > 0) {
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
  }
  take_items(epoch);
  for (unsigned spins = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < (uint32_t)iterations; spins++) {
    QAT_POOL_PAUSE();
    // A worker holding an item may have lost its core: let it have ours.
    if ((spins & 1023) == 1023) sched_yield();
  }
  atomic_flag_clear_explicit(&pool.busy, memory_order_release);
  return 1;
}

int qat_pool_workers(void) {
  (void)pthread_once(&pool_once, start_workers);
  return pool.workers;
}
