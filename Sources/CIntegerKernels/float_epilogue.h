// The operations of a fused Conv epilogue (`qat_float_epilogue`) on one float and on eight,
// shared by the kernels that apply it as they store (not part of the target's public header).
// They are the float32 operations of the unfused kernels in the same order, so they give the
// same bits: the product and the sum of a BatchNormalization rounded apart (never one fused
// multiply-add), Relu as `v > 0 ? v : 0` (NaN and -0 give +0), Clip as `high < r ? high : r` of
// `r = low >= v ? low : v` (Swift's min(max(v, low), high); vminps(high, r) is exactly the
// outer step, the raise needs a compare and a blend so that NaN and equal values pick the same
// operand), LeakyRelu as `v < 0 ? alpha * v : v`.
#ifndef CINTEGERKERNELS_FLOAT_EPILOGUE_H
#define CINTEGERKERNELS_FLOAT_EPILOGUE_H

#include "CIntegerKernels.h"

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/// The epilogue `e` (may be NULL: none) of one value.
static inline float qat_epilogue_scalar(float value, const qat_float_epilogue *e) {
  if (!e) return value;
  if (e->normalize) value = value * e->factor + e->shift;
  switch (e->activation) {
    case QAT_EPILOGUE_RELU: return value > 0.0f ? value : 0.0f;
    case QAT_EPILOGUE_CLIP: {
      const float raised = e->low >= value ? e->low : value;
      return e->high < raised ? e->high : raised;
    }
    case QAT_EPILOGUE_LEAKY_RELU: return value < 0.0f ? e->alpha * value : value;
    default: return value;
  }
}

#if defined(__x86_64__) || defined(__i386__)
/// The epilogue `e` (may be NULL: none) of eight values, lane by lane `qat_epilogue_scalar`.
__attribute__((target("avx2"), always_inline)) static inline __m256 qat_epilogue_vector(
    __m256 v, const qat_float_epilogue *e) {
  if (!e) return v;
  if (e->normalize) v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_set1_ps(e->factor)), _mm256_set1_ps(e->shift));
  switch (e->activation) {
    case QAT_EPILOGUE_RELU: return _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ), v);
    case QAT_EPILOGUE_CLIP: {
      const __m256 low = _mm256_set1_ps(e->low);
      const __m256 raised = _mm256_blendv_ps(v, low, _mm256_cmp_ps(low, v, _CMP_GE_OQ));
      return _mm256_min_ps(_mm256_set1_ps(e->high), raised);
    }
    case QAT_EPILOGUE_LEAKY_RELU:
      return _mm256_blendv_ps(v, _mm256_mul_ps(_mm256_set1_ps(e->alpha), v),
                              _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
    default: return v;
  }
}

/// The epilogue `e` (may be NULL: none) of sixteen values, lane by lane `qat_epilogue_scalar`
/// (the same operations as `qat_epilogue_vector`, with mask registers for the comparisons).
__attribute__((target("avx512f"), always_inline)) static inline __m512 qat_epilogue_vector512(
    __m512 v, const qat_float_epilogue *e) {
  if (!e) return v;
  if (e->normalize) v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(e->factor)), _mm512_set1_ps(e->shift));
  switch (e->activation) {
    case QAT_EPILOGUE_RELU: return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v);
    case QAT_EPILOGUE_CLIP: {
      const __m512 low = _mm512_set1_ps(e->low);
      const __m512 raised = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(low, v, _CMP_GE_OQ), v, low);
      return _mm512_min_ps(_mm512_set1_ps(e->high), raised);
    }
    case QAT_EPILOGUE_LEAKY_RELU:
      return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v,
                                  _mm512_mul_ps(_mm512_set1_ps(e->alpha), v));
    default: return v;
  }
}
#endif

#endif
