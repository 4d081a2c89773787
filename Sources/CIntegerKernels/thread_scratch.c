// Per-thread scratch buffers for the float kernels' packed operands and im2col columns, kept
// from call to call: a buffer is allocated (or grown) the first time a thread needs it and then
// reused, so a kernel called on every run does not allocate, free and page-fault its scratch
// each time (glibc hands blocks of 128 KiB and more to mmap and back, and a worker thread's
// arena trims its top). Each thread owns QAT_SCRATCH_SLOTS slots, freed when the thread exits.
#include "CIntegerKernels.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
  float *values[QAT_SCRATCH_SLOTS];
  size_t counts[QAT_SCRATCH_SLOTS];
} qat_scratch_slots;

static pthread_key_t qat_scratch_key;
static pthread_once_t qat_scratch_once = PTHREAD_ONCE_INIT;

static void qat_scratch_release(void *pointer) {
  qat_scratch_slots *slots = pointer;
  for (int i = 0; i < QAT_SCRATCH_SLOTS; i++) free(slots->values[i]);
  free(slots);
}

static void qat_scratch_make_key(void) { (void)pthread_key_create(&qat_scratch_key, qat_scratch_release); }

float *qat_thread_scratch_f32(int slot, size_t count) {
  if (slot < 0 || slot >= QAT_SCRATCH_SLOTS) return NULL;
  (void)pthread_once(&qat_scratch_once, qat_scratch_make_key);
  qat_scratch_slots *slots = pthread_getspecific(qat_scratch_key);
  if (slots == NULL) {
    slots = calloc(1, sizeof(qat_scratch_slots));
    if (slots == NULL) return NULL;
    if (pthread_setspecific(qat_scratch_key, slots) != 0) {
      free(slots);
      return NULL;
    }
  }
  if (count == 0) count = 1;
  if (slots->counts[slot] < count) {
    free(slots->values[slot]);
    // 64-byte aligned (whole cache lines), rounded up to a multiple of 16 floats.
    const size_t rounded = (count + 15) / 16 * 16;
    slots->values[slot] = aligned_alloc(64, rounded * sizeof(float));
    slots->counts[slot] = slots->values[slot] ? rounded : 0;
  }
  return slots->values[slot];
}
