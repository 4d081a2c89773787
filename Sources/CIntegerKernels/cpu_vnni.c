// Run-time VNNI detection, checked once and cached. `__builtin_cpu_supports` reports AVX and
// AVX-512 features only when the operating system saves their registers (XCR0), so a yes here
// means the instructions can run.
#include "cpu_vnni.h"

int qat_cpu_has_avx_vnni(void) {
#if defined(__x86_64__) || defined(__i386__)
  static int state = -1;
  if (state < 0) {
    __builtin_cpu_init();
    state = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avxvnni") ? 1 : 0;
  }
  return state;
#else
  return 0;
#endif
}

int qat_cpu_has_avx512(void) {
#if defined(__x86_64__) || defined(__i386__)
  static int state = -1;
  if (state < 0) {
    __builtin_cpu_init();
    state = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
                ? 1
                : 0;
  }
  return state;
#else
  return 0;
#endif
}

int qat_cpu_has_avx512_vnni(void) {
#if defined(__x86_64__) || defined(__i386__)
  static int state = -1;
  if (state < 0) {
    __builtin_cpu_init();
    state = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
                ? 1
                : 0;
  }
  return state;
#else
  return 0;
#endif
}
