// Requantization of int32 accumulators of one output channel to 8-bit outputs, eight lanes at a
// time with AVX2, in the two modes of the Swift `Requantizer` (which keeps the scalar reference and
// runs it where this file returns 0: no AVX2, or the portable switch set by tests).
//
// Both modes first add the channel's bias with int32 wrap-around (vpaddd).
//
// float (onnxruntime's MLAS order): `x = float(acc) * scale` (vcvtdq2ps rounds to nearest even, as
// Swift's `Float(Int32)`; one vmulps), clamped with `max(x, low)` then `min(., high)` where
// `low = float(qmin - zp)` and `high = float(qmax - zp)`: MAXPS returns its second operand when
// either is NaN, so a NaN becomes `low` as in the scalar `x >= low ? ... : low`; then vcvtps2dq,
// which rounds half to even under the default MXCSR rounding mode (the mode Swift code runs in),
// then `+ zp`.
//
// fixed-point (TFLite's MultiplyByQuantizedMultiplier): `x << left` (int32 wrap), then
// SaturatingRoundingDoublingHighMul by the Q31 multiplier: with the 64-bit product p, the scalar
// `trunc((p + nudge) / 2^31)` (nudge 2^30 for p >= 0, 1 - 2^30 below) equals `floor((p + 2^30) / 2^31)`
// for every p (for p < 0, trunc of a negative number is floor after adding 2^31 - 1), and its low 32
// bits are bits 31..62 of `p + 2^30`: a 64-bit add and a logical shift (vpmuldq on even and odd
// lanes). Its single saturating case needs a multiplier of INT32_MIN, which QuantizeMultiplier
// never makes (such a channel returns 0 here: the caller's scalar path runs). Then
// RoundingDivideByPOT by `right` (ties away from zero: `(x >> e) + (x & mask > (mask >> 1) + (x < 0))`),
// then the clamp to `[qmin - zp, qmax - zp]` before adding zp (the same values as clamping
// `x + zp` in 64 bits, without int32 overflow).
//
// Outputs are in [qmin, qmax] within [-128, 255], so narrowing through vpackssdw then vpackuswb
// (uint8) or vpacksswb (int8) is exact. A tail of fewer than eight accumulators goes through a
// zero-padded staging vector.
//
// With AVX-512 (F, BW, VL) sixteen lanes go at a time through requantize_avx512.h (the same
// operations lane for lane), narrowed by keeping each lane's low byte (exact for values in the
// output type's range), a tail through masked loads and stores.
#include "CIntegerKernels.h"
#include "cpu_features.h"
#include "requantize_avx2.h"
#include "requantize_avx512.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_REQUANTIZE_X86 1
#endif

#ifdef QAT_REQUANTIZE_X86
/// Stores eight int32 in [-128, 255] as bytes.
__attribute__((target("avx2"))) static inline void store8(__m256i values, int output_signed, void *output) {
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(values), _mm256_extracti128_si256(values, 1));
  const __m128i bytes = output_signed ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words);
  _mm_storel_epi64((__m128i *)output, bytes);
}

/// Stores 32 int32 in [-128, 255] (`a`, `b`, `c`, `d` in order) as bytes.
__attribute__((target("avx2"))) static inline void store32(__m256i a, __m256i b, __m256i c, __m256i d,
                                                            int output_signed, void *output) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // a0-3 b0-3 | a4-7 b4-7
  const __m256i cd = _mm256_packs_epi32(c, d);  // c0-3 d0-3 | c4-7 d4-7
  const __m256i bytes = output_signed ? _mm256_packs_epi16(ab, cd) : _mm256_packus_epi16(ab, cd);
  // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7, as 4-byte groups: back into order.
  _mm256_storeu_si256((__m256i *)output,
                      _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

__attribute__((target("avx2"))) static void requantize_avx2(const int32_t *acc, size_t count,
                                                             const qat_requantization *r, int output_signed,
                                                             void *output) {
  uint8_t *out = (uint8_t *)output;
  const __m256i bias = _mm256_set1_epi32(r->bias);
  const __m256i zero = _mm256_set1_epi32(r->zero_point);
  int32_t staged[8];
  size_t i = 0;
  if (!r->fixed_point) {
    const __m256 scale = _mm256_set1_ps(r->scale);
    const __m256 low = _mm256_set1_ps((float)(r->minimum - r->zero_point));
    const __m256 high = _mm256_set1_ps((float)(r->maximum - r->zero_point));
#define QAT_FLOAT8(offset) \
  requantize_float8(_mm256_loadu_si256((const __m256i *)(acc + i + (offset))), bias, scale, low, high, zero)
    for (; i + 32 <= count; i += 32)
      store32(QAT_FLOAT8(0), QAT_FLOAT8(8), QAT_FLOAT8(16), QAT_FLOAT8(24), output_signed, out + i);
    for (; i + 8 <= count; i += 8) store8(QAT_FLOAT8(0), output_signed, out + i);
#undef QAT_FLOAT8
    if (i < count) {
      memset(staged, 0, sizeof staged);
      memcpy(staged, acc + i, (count - i) * sizeof(int32_t));
      uint8_t bytes[8];
      store8(requantize_float8(_mm256_loadu_si256((const __m256i *)staged), bias, scale, low, high, zero),
             output_signed, bytes);
      memcpy(out + i, bytes, count - i);
    }
    return;
  }
  const int left = r->shift > 0 ? r->shift : 0;
  const int right = r->shift > 0 ? 0 : -r->shift;
  const __m128i left_count = _mm_cvtsi32_si128(left);
  const __m128i right_count = _mm_cvtsi32_si128(right);
  const __m256i multiplier = _mm256_set1_epi32(r->multiplier);
  const int32_t mask_value = (int32_t)(((int64_t)1 << right) - 1);
  const __m256i mask = _mm256_set1_epi32(mask_value);
  const __m256i threshold = _mm256_set1_epi32(mask_value >> 1);
  const __m256i low = _mm256_set1_epi32(r->minimum - r->zero_point);
  const __m256i high = _mm256_set1_epi32(r->maximum - r->zero_point);
#define QAT_FIXED8(source)                                                                                    \
  requantize_fixed8(_mm256_loadu_si256((const __m256i *)(source)), bias, left_count, multiplier, right, \
                    right_count, mask, threshold, low, high, zero)
  for (; i + 32 <= count; i += 32)
    store32(QAT_FIXED8(acc + i), QAT_FIXED8(acc + i + 8), QAT_FIXED8(acc + i + 16), QAT_FIXED8(acc + i + 24),
            output_signed, out + i);
  for (; i + 8 <= count; i += 8) store8(QAT_FIXED8(acc + i), output_signed, out + i);
  if (i < count) {
    memset(staged, 0, sizeof staged);
    memcpy(staged, acc + i, (count - i) * sizeof(int32_t));
    uint8_t bytes[8];
    store8(QAT_FIXED8(staged), output_signed, bytes);
    memcpy(out + i, bytes, count - i);
  }
#undef QAT_FIXED8
}

/// `requantize_avx2` sixteen lanes at a time (requantize_avx512.h).
__attribute__((target(QAT_AVX512_TARGET))) static void requantize_avx512(const int32_t *acc, size_t count,
                                                                         const qat_requantization *r, void *output) {
  const qat_requantization local = *r;  // not reloaded after each store through `output`
  uint8_t *out = (uint8_t *)output;
  size_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm_storeu_si128((__m128i *)(out + i),
                     qat_narrow16_avx512(qat_requantize16(_mm512_loadu_si512((const void *)(acc + i)), &local)));
  if (i < count) {
    const __mmask16 lanes = (__mmask16)((1u << (count - i)) - 1);
    const __m512i values = _mm512_maskz_loadu_epi32(lanes, acc + i);
    _mm_mask_storeu_epi8(out + i, lanes, qat_narrow16_avx512(qat_requantize16(values, &local)));
  }
}
#endif

/// The level forced by the test hooks, or -1: the best this CPU runs.
static int qat_requantize_forced = -1;

/// The level `qat_requantize_int8` runs at: QAT_U8S8_PORTABLE (it returns 0), QAT_U8S8_AVX2, or
/// QAT_U8S8_AVX512_VNNI for the AVX-512 loop (which needs AVX512F, BW and VL, not VNNI).
static int requantize_level(void) {
  int best = QAT_U8S8_PORTABLE;
#ifdef QAT_REQUANTIZE_X86
  if (qat_cpu_has_avx512()) best = QAT_U8S8_AVX512_VNNI;
  else if (qat_cpu_has_avx2()) best = QAT_U8S8_AVX2;
#endif
  return qat_requantize_forced >= 0 && qat_requantize_forced < best ? qat_requantize_forced : best;
}

void qat_requantize_set_portable(int portable) { qat_requantize_forced = portable ? QAT_U8S8_PORTABLE : -1; }

int qat_requantize_set_level(int level) {
  qat_requantize_forced = level >= QAT_U8S8_AVX_VNNI && level < QAT_U8S8_AVX512_VNNI ? QAT_U8S8_AVX2 : level;
  return requantize_level();
}

int qat_requantize_int8_supported(const qat_requantization *r, int output_signed) {
#ifdef QAT_REQUANTIZE_X86
  const int32_t floor = output_signed ? -128 : 0, ceiling = output_signed ? 127 : 255;
  const int in_range = r->minimum >= floor && r->maximum <= ceiling && r->minimum <= r->maximum;
  const int fixed_ok = !r->fixed_point || (r->multiplier != INT32_MIN && r->shift <= 31 && r->shift >= -31);
  return requantize_level() >= QAT_U8S8_AVX2 && in_range && fixed_ok;
#else
  (void)r;
  (void)output_signed;
  return 0;
#endif
}

int qat_requantize_int8(const int32_t *acc, size_t count, const qat_requantization *r, int output_signed,
                        void *output) {
  if (!qat_requantize_int8_supported(r, output_signed)) return 0;
#ifdef QAT_REQUANTIZE_X86
  if (requantize_level() >= QAT_U8S8_AVX512_VNNI) requantize_avx512(acc, count, r, output);
  else requantize_avx2(acc, count, r, output_signed, output);
  return 1;
#else
  (void)acc;
  (void)count;
  (void)output;
  return 0;
#endif
}
