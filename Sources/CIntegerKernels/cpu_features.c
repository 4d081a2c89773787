// Run-time CPU detection (cpu_features.h): one probe of every feature the kernels use, kept in a
// bit set.
#include "cpu_features.h"

enum {
  QAT_CPU_AVX2 = 1 << 0,
  QAT_CPU_FMA = 1 << 1,
  QAT_CPU_AVX512 = 1 << 2,
  QAT_CPU_AVX_VNNI = 1 << 3,
  QAT_CPU_AVX512_VNNI = 1 << 4,
};

/// The features of this CPU (QAT_CPU_* bits), probed on the first call.
static int features(void) {
#if defined(__x86_64__) || defined(__i386__)
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    int found = 0;
    if (__builtin_cpu_supports("avx2")) found |= QAT_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) found |= QAT_CPU_FMA;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
      found |= QAT_CPU_AVX512;
    if ((found & QAT_CPU_AVX2) && __builtin_cpu_supports("avxvnni")) found |= QAT_CPU_AVX_VNNI;
    if ((found & QAT_CPU_AVX512) && __builtin_cpu_supports("avx512vnni")) found |= QAT_CPU_AVX512_VNNI;
    cached = found;
  }
  return cached;
#else
  return 0;
#endif
}

int qat_cpu_has_avx2(void) { return (features() & QAT_CPU_AVX2) != 0; }

int qat_cpu_has_avx2_fma(void) { return (features() & (QAT_CPU_AVX2 | QAT_CPU_FMA)) == (QAT_CPU_AVX2 | QAT_CPU_FMA); }

int qat_cpu_has_avx512(void) { return (features() & QAT_CPU_AVX512) != 0; }

int qat_cpu_has_avx_vnni(void) { return (features() & QAT_CPU_AVX_VNNI) != 0; }

int qat_cpu_has_avx512_vnni(void) { return (features() & QAT_CPU_AVX512_VNNI) != 0; }
