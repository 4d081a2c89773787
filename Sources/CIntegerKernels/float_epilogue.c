// `qat_float_epilogue_apply`: a fused Conv epilogue over a block of float outputs in place, for
// the kernels that cannot apply it as they store (the float GEMM's output bands); sixteen values
// a vector with AVX-512, eight with AVX2, the same operations on each lane.
#include "CIntegerKernels.h"
#include "cpu_features.h"
#include "float_epilogue.h"

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
/// Eight values at a time, the rest one at a time.
__attribute__((target("avx2"))) static void apply_avx2(float *values, ptrdiff_t count, const qat_float_epilogue *e) {
  const qat_float_epilogue local = *e;  // not aliased by the stores
  ptrdiff_t i = 0;
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(values + i, qat_epilogue_vector(_mm256_loadu_ps(values + i), &local));
  for (; i < count; i++) values[i] = qat_epilogue_scalar(values[i], &local);
}

/// Sixteen values at a time, then eight, then one at a time.
__attribute__((target("avx512f,avx2"))) static void apply_avx512(float *values, ptrdiff_t count,
                                                                const qat_float_epilogue *e) {
  const qat_float_epilogue local = *e;  // not aliased by the stores
  ptrdiff_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm512_storeu_ps(values + i, qat_epilogue_vector512(_mm512_loadu_ps(values + i), &local));
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(values + i, qat_epilogue_vector(_mm256_loadu_ps(values + i), &local));
  for (; i < count; i++) values[i] = qat_epilogue_scalar(values[i], &local);
}

#endif

void qat_float_epilogue_apply(float *values, ptrdiff_t count, const qat_float_epilogue *epilogue) {
  if (!epilogue || count <= 0) return;
#if defined(__x86_64__) || defined(__i386__)
  if (qat_cpu_has_avx512()) {
    apply_avx512(values, count, epilogue);
    return;
  }
  if (qat_cpu_has_avx2()) {
    apply_avx2(values, count, epilogue);
    return;
  }
#endif
  const qat_float_epilogue local = *epilogue;
  for (ptrdiff_t i = 0; i < count; i++) values[i] = qat_epilogue_scalar(values[i], &local);
}
