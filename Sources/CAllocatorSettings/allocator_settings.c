#include "CAllocatorSettings.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int onnxqat_set_allocator_thresholds(int heap_buffer_limit, int grow_step, int trim_at) {
#if defined(__GLIBC__)
  int ok = mallopt(M_MMAP_THRESHOLD, heap_buffer_limit);
  ok &= mallopt(M_TOP_PAD, grow_step);
  ok &= mallopt(M_TRIM_THRESHOLD, trim_at);
  return ok ? 1 : 0;
#else
  (void)heap_buffer_limit;
  (void)grow_step;
  (void)trim_at;
  return 0;
#endif
}
