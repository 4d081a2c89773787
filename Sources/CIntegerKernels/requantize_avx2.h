// AVX2 requantization of eight int32 accumulators (the two modes of requantize_int8.c, whose
// header comment gives the maths), shared by the requantization kernel and the u8 x s8 GEMM's
// fused store. Internal to this target.
#ifndef CINTEGERKERNELS_REQUANTIZE_AVX2_H
#define CINTEGERKERNELS_REQUANTIZE_AVX2_H

#include "CIntegerKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/// Eight accumulators plus bias, requantized in float mode (still int32, in [qmin, qmax]).
__attribute__((target("avx2"))) static inline __m256i requantize_float8(__m256i acc, __m256i bias, __m256 scale,
                                                                         __m256 low, __m256 high, __m256i zero) {
  __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, bias)), scale);
  x = _mm256_min_ps(_mm256_max_ps(x, low), high);
  return _mm256_add_epi32(_mm256_cvtps_epi32(x), zero);
}

/// `floor((a * b + 2^30) / 2^31)` (low 32 bits) of the even int32 lanes of `a` and `b`, in the
/// low halves of the 64-bit lanes.
__attribute__((target("avx2"))) static inline __m256i high_mul_even(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x((long long)1 << 30);
  return _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(a, b), nudge), 31);
}

/// Eight accumulators plus bias, requantized in fixed-point mode (still int32, in [qmin, qmax]).
__attribute__((target("avx2"))) static inline __m256i requantize_fixed8(__m256i acc, __m256i bias, __m128i left,
                                                                         __m256i multiplier, int right,
                                                                         __m128i right_count, __m256i mask,
                                                                         __m256i threshold, __m256i low,
                                                                         __m256i high, __m256i zero) {
  const __m256i x = _mm256_sll_epi32(_mm256_add_epi32(acc, bias), left);
  const __m256i even = high_mul_even(x, multiplier);
  const __m256i odd = high_mul_even(_mm256_srli_epi64(x, 32), multiplier);
  __m256i y = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  if (right > 0) {
    const __m256i remainder = _mm256_and_si256(y, mask);
    // threshold + 1 where y < 0 (srai by 31 gives -1 there).
    const __m256i limit = _mm256_sub_epi32(threshold, _mm256_srai_epi32(y, 31));
    const __m256i up = _mm256_cmpgt_epi32(remainder, limit);
    y = _mm256_sub_epi32(_mm256_sra_epi32(y, right_count), up);
  }
  y = _mm256_min_epi32(_mm256_max_epi32(y, low), high);
  return _mm256_add_epi32(y, zero);
}

/// Eight accumulators requantized with the parameters `r` of one channel (either mode).
__attribute__((target("avx2"))) static inline __m256i qat_requantize8(__m256i acc, const qat_requantization *r) {
  const __m256i bias = _mm256_set1_epi32(r->bias);
  const __m256i zero = _mm256_set1_epi32(r->zero_point);
  if (!r->fixed_point)
    return requantize_float8(acc, bias, _mm256_set1_ps(r->scale), _mm256_set1_ps((float)(r->minimum - r->zero_point)),
                             _mm256_set1_ps((float)(r->maximum - r->zero_point)), zero);
  const int right = r->shift > 0 ? 0 : -r->shift;
  const int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
  return requantize_fixed8(acc, bias, _mm_cvtsi32_si128(r->shift > 0 ? r->shift : 0), _mm256_set1_epi32(r->multiplier),
                           right, _mm_cvtsi32_si128(right), _mm256_set1_epi32(mask), _mm256_set1_epi32(mask >> 1),
                           _mm256_set1_epi32(r->minimum - r->zero_point), _mm256_set1_epi32(r->maximum - r->zero_point),
                           zero);
}

/// Sixteen int32 in [-128, 255] (`low` then `high`) as sixteen bytes.
__attribute__((target("avx2"))) static inline __m128i qat_narrow16(__m256i low, __m256i high, int output_signed) {
  const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(low, high), 0xD8);
  const __m128i a = _mm256_castsi256_si128(words), b = _mm256_extracti128_si256(words, 1);
  return output_signed ? _mm_packs_epi16(a, b) : _mm_packus_epi16(a, b);
}
#endif

#endif
