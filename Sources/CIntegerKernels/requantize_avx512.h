// AVX-512 requantization of sixteen int32 accumulators: requantize_avx2.h's operations lane for
// lane on zmm (same instructions, twice the lanes; the comparisons give masks instead of all-ones
// lanes), so the same bits. requantize_int8.c's header comment gives the maths. Internal to this
// target.
#ifndef CINTEGERKERNELS_REQUANTIZE_AVX512_H
#define CINTEGERKERNELS_REQUANTIZE_AVX512_H

#include "CIntegerKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define QAT_AVX512_TARGET "avx512f,avx512bw,avx512vl"

/// `floor((a * b + 2^30) / 2^31)` (low 32 bits) of the even int32 lanes of `a` and `b`, in the
/// low halves of the 64-bit lanes (requantize_avx2.h's `high_mul_even`).
__attribute__((target(QAT_AVX512_TARGET), always_inline)) static inline __m512i high_mul_even16(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64((long long)1 << 30);
  return _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, b), nudge), 31);
}

/// Sixteen accumulators requantized with the parameters `r` of one channel (either mode; still
/// int32, in [minimum, maximum]).
__attribute__((target(QAT_AVX512_TARGET), always_inline)) static inline __m512i qat_requantize16(
    __m512i acc, const qat_requantization *r) {
  const __m512i zero = _mm512_set1_epi32(r->zero_point);
  const __m512i sum = _mm512_add_epi32(acc, _mm512_set1_epi32(r->bias));
  if (!r->fixed_point) {
    __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(r->scale));
    // max first: a NaN becomes the lower bound (MAXPS returns its second operand).
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps((float)(r->minimum - r->zero_point))),
                      _mm512_set1_ps((float)(r->maximum - r->zero_point)));
    return _mm512_add_epi32(_mm512_cvtps_epi32(x), zero);
  }
  const __m512i multiplier = _mm512_set1_epi32(r->multiplier);
  const __m512i x = _mm512_sll_epi32(sum, _mm_cvtsi32_si128(r->shift > 0 ? r->shift : 0));
  const __m512i even = high_mul_even16(x, multiplier);
  const __m512i odd = high_mul_even16(_mm512_srli_epi64(x, 32), multiplier);
  __m512i y = _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32));
  const int right = r->shift > 0 ? 0 : -r->shift;
  if (right > 0) {
    const int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
    const __m512i remainder = _mm512_and_si512(y, _mm512_set1_epi32(mask));
    // threshold + 1 where y < 0 (srai by 31 gives -1 there).
    const __m512i limit = _mm512_sub_epi32(_mm512_set1_epi32(mask >> 1), _mm512_srai_epi32(y, 31));
    const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, limit);
    const __m512i shifted = _mm512_sra_epi32(y, _mm_cvtsi32_si128(right));
    y = _mm512_mask_add_epi32(shifted, up, shifted, _mm512_set1_epi32(1));
  }
  y = _mm512_min_epi32(_mm512_max_epi32(y, _mm512_set1_epi32(r->minimum - r->zero_point)),
                       _mm512_set1_epi32(r->maximum - r->zero_point));
  return _mm512_add_epi32(y, zero);
}

/// Sixteen int32 in [-128, 255] as sixteen bytes. Requantized values lie in the output type's
/// range, so keeping each lane's low byte (vpmovdb) is exact for int8 and uint8 alike.
__attribute__((target(QAT_AVX512_TARGET), always_inline)) static inline __m128i qat_narrow16_avx512(__m512i values) {
  return _mm512_cvtepi32_epi8(values);
}
#endif

#endif
