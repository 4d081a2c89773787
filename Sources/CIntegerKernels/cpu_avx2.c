// Run-time AVX2 detection, checked once and cached.
#include "cpu_avx2.h"

int qat_cpu_has_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
  static int state = -1;
  if (state < 0) {
    __builtin_cpu_init();
    state = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return state;
#else
  return 0;
#endif
}
