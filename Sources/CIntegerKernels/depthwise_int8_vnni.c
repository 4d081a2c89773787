// The byte path of the 8-bit depthwise plane (AVX512-VNNI): the sums of depthwise_int8.c,
// `y[oy, ox] = sum_{ky, kx} (x[iy, ix] - x_zero) * w'[ky, kx]` with `w' = w - w_zero` and the taps
// in the padding contributing zero, computed by vpdpbusd straight from the input bytes, with no
// widened copy of the plane.
//
// vpdpbusd multiplies four unsigned bytes by four signed bytes and adds the four products to an
// int32 lane. It needs weights in [-128, 127] (checked per plane) and unsigned inputs, so the
// zero point comes out of the product instead:
// `sum (x - x_zero) w' = sum x w' - x_zero * sum w'`. A padding tap is read as the byte `x_zero`,
// so that it adds `x_zero * w'` to the first sum and the correction takes it out again: each
// output starts from `-x_zero * sum w'` over the kernel rows inside the image (rows in the
// vertical padding are skipped whole), and columns in the padding are filled with `x_zero` by
// masked loads (AVX-512 masked loads never touch the masked-out bytes, so a load may start
// before or end after the row). int8 inputs are made unsigned by flipping their top bit
// (`x + 128`, and `x_zero + 128` likewise), which leaves every difference unchanged. Every
// product, sum and correction is exact modulo 2^32 and vpdpbusd adds with wrap-around (the
// non-saturating form), so the result equals the reference bit for bit, wrap included.
//
// Kernel row `ky` is cut into groups of four columns `4 g .. 4 g + 3` (missing ones get a zero
// weight), each group's weights broadcast as the four bytes of an int32. A 64-byte load at
// input column `c` gives lane `j` the bytes `c + 4 j .. c + 4 j + 3`, which is a whole group of
// taps for the output whose window starts at `c + 4 j`:
// - stride 1: four loads, at `c0 + r + 4 g` for phase `r` = 0..3, give lane `j` of accumulator
//   `r` the output `ox0 + 4 j + r`, 64 outputs per step; at the end a 4 x 4 transpose of the
//   int32 lanes within each 128-bit lane, then of the 128-bit lanes, puts them in order;
// - stride 2: two loads, at `c0 + 2 s + 4 g` for `s` = 0, 1, give lane `j` of accumulator `s`
//   the output `ox0 + 2 j + s`, 32 outputs per step, interleaved at the end.
// with `c0 = ox0 * stride - pad_left`. So one load and one vpdpbusd add a group of four taps into
// sixteen outputs; the shuffles are paid once per step, not per tap. The load masks depend only
// on the step's columns, so they are computed once per step for every output row; a row's last
// partial step is stored through masks.
#include "depthwise_int8_vnni.h"
#include "CIntegerKernels.h"

#include <stddef.h>
#include <stdint.h>

/// Groups of four columns per kernel row at most (kernel_w <= 16).
#define QAT_VNNI_BYTES_MAX_GROUPS 4

/// 1 when the byte path takes this geometry and input zero point (the weights aside), else 0.
static int accepts_geometry(int x_signed, int32_t x_zero, const qat_depthwise_geometry *g) {
  if ((g->stride_w != 1 && g->stride_w != 2) || g->dilation_w != 1 || g->kernel_w < 1 || g->kernel_h < 1 ||
      g->kernel_w > 4 * QAT_VNNI_BYTES_MAX_GROUPS)
    return 0;
  return x_signed ? x_zero >= -128 && x_zero <= 127 : x_zero >= 0 && x_zero <= 255;
}

int qat_depthwise_int8_bytes_accepts(int x_signed, int32_t x_zero, const void *w, int w_signed, int32_t w_zero,
                                     const qat_depthwise_geometry *g) {
  if (!accepts_geometry(x_signed, x_zero, g)) return 0;
  for (int tap = 0; tap < g->kernel_h * g->kernel_w; tap++) {
    const int32_t value = (w_signed ? (int32_t)((const int8_t *)w)[tap] : (int32_t)((const uint8_t *)w)[tap]) - w_zero;
    if (value < -128 || value > 127) return 0;
  }
  return 1;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/// The bits `k` < 64 whose input column `c + k` lies in [0, in_w).
static inline uint64_t column_mask(ptrdiff_t c, ptrdiff_t in_w) {
  const ptrdiff_t low = c < 0 ? -c : 0;
  const ptrdiff_t high = in_w - c < 64 ? in_w - c : 64;
  if (high <= low) return 0;
  const uint64_t below_high = high == 64 ? ~(uint64_t)0 : ((uint64_t)1 << high) - 1;
  return below_high & ~(((uint64_t)1 << low) - 1);  // low < high <= 64
}

/// The first `count` of 16 lanes (all for 16 or more).
static inline __mmask16 lane_mask(ptrdiff_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

/// The plane at `stride` (1 or 2) with `x_signed` as described above; both are constants where
/// inlined. `groups` holds each kernel row's groups of four weight bytes, `rows` each kernel
/// row's `x_zero' * sum w'` (mod 2^32) and `fill` the padding byte as stored (before the top bit
/// of an int8 input is flipped).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline)) static inline void plane_bytes(
    const uint8_t *x, int x_signed, int stride, uint8_t fill, const int32_t *groups, const uint32_t *rows,
    int group_count, int32_t *y, const qat_depthwise_geometry *g) {
  const int phases = 4 / stride;            // accumulators per step
  const int step = 16 * phases;             // outputs per step
  const int loads = phases * group_count;   // loads per kernel row and step
  const __m512i fills = _mm512_set1_epi8((char)fill);
  const __m512i top = _mm512_set1_epi8((char)0x80);
  const ptrdiff_t in_w = g->in_w, out_w = g->out_w;
  uint64_t masks[4 * QAT_VNNI_BYTES_MAX_GROUPS];
  for (ptrdiff_t ox0 = 0; ox0 < out_w; ox0 += step) {
    const ptrdiff_t c0 = ox0 * stride - g->pad_left;
    // Load `l` (phase `l % phases`, group `l / phases`) starts at column `c0 + stride * l`.
    for (int l = 0; l < loads; l++) masks[l] = column_mask(c0 + (ptrdiff_t)stride * l, in_w);
    const ptrdiff_t left = out_w - ox0;
    const __mmask16 store0 = lane_mask(left), store1 = lane_mask(left - 16);
    const __mmask16 store2 = lane_mask(left - 32), store3 = lane_mask(left - 48);
    for (int oy = 0; oy < g->out_h; oy++) {
      const ptrdiff_t iy0 = (ptrdiff_t)oy * g->stride_h - g->pad_top;
      uint32_t correction = 0;
      for (int ky = 0; ky < g->kernel_h; ky++) {
        const ptrdiff_t iy = iy0 + (ptrdiff_t)ky * g->dilation_h;
        if (iy >= 0 && iy < g->in_h) correction += rows[ky];
      }
      const __m512i start = _mm512_set1_epi32((int32_t)(0u - correction));
      __m512i a0 = start, a1 = start, a2 = start, a3 = start;
      for (int ky = 0; ky < g->kernel_h; ky++) {
        const ptrdiff_t iy = iy0 + (ptrdiff_t)ky * g->dilation_h;
        if (iy < 0 || iy >= g->in_h) continue;
        // Column c0 of input row iy, perhaps outside the row (only masked-in bytes are read).
        const uintptr_t base = (uintptr_t)x + (uintptr_t)(iy * in_w + c0);
        const int32_t *weights = groups + ky * group_count;
        for (int group = 0; group < group_count; group++) {
          const __m512i w = _mm512_set1_epi32(weights[group]);
          for (int phase = 0; phase < phases; phase++) {
            const int l = group * phases + phase;
            __m512i v = _mm512_mask_loadu_epi8(fills, masks[l], (const void *)(base + (uintptr_t)(stride * l)));
            if (x_signed) v = _mm512_xor_si512(v, top);
            if (phase == 0) a0 = _mm512_dpbusd_epi32(a0, v, w);
            else if (phase == 1) a1 = _mm512_dpbusd_epi32(a1, v, w);
            else if (phase == 2) a2 = _mm512_dpbusd_epi32(a2, v, w);
            else a3 = _mm512_dpbusd_epi32(a3, v, w);
          }
        }
      }
      int32_t *target = y + (ptrdiff_t)oy * out_w + ox0;
      if (stride == 1) {
        // Lane j of a_r is output 4 j + r. Within each 128-bit lane L, transpose the 4 x 4 int32:
        // u_k lane L = outputs 16 L + 4 k .. 16 L + 4 k + 3.
        const __m512i t0 = _mm512_unpacklo_epi32(a0, a1), t1 = _mm512_unpackhi_epi32(a0, a1);
        const __m512i t2 = _mm512_unpacklo_epi32(a2, a3), t3 = _mm512_unpackhi_epi32(a2, a3);
        const __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
        const __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
        // Then the 128-bit lanes: output block q = (u0, u1, u2, u3) lane q.
        const __m512i p01 = _mm512_shuffle_i32x4(u0, u1, 0x44), p23 = _mm512_shuffle_i32x4(u2, u3, 0x44);
        const __m512i q01 = _mm512_shuffle_i32x4(u0, u1, 0xEE), q23 = _mm512_shuffle_i32x4(u2, u3, 0xEE);
        _mm512_mask_storeu_epi32(target, store0, _mm512_shuffle_i32x4(p01, p23, 0x88));
        _mm512_mask_storeu_epi32(target + 16, store1, _mm512_shuffle_i32x4(p01, p23, 0xDD));
        _mm512_mask_storeu_epi32(target + 32, store2, _mm512_shuffle_i32x4(q01, q23, 0x88));
        _mm512_mask_storeu_epi32(target + 48, store3, _mm512_shuffle_i32x4(q01, q23, 0xDD));
      } else {
        // Lane j of a_s is output 2 j + s.
        const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        _mm512_mask_storeu_epi32(target, store0, _mm512_permutex2var_epi32(a0, first, a1));
        _mm512_mask_storeu_epi32(target + 16, store1, _mm512_permutex2var_epi32(a0, second, a1));
      }
    }
  }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) static void plane_stride1_u8(
    const uint8_t *x, uint8_t fill, const int32_t *groups, const uint32_t *rows, int group_count, int32_t *y,
    const qat_depthwise_geometry *g) {
  plane_bytes(x, 0, 1, fill, groups, rows, group_count, y, g);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) static void plane_stride2_u8(
    const uint8_t *x, uint8_t fill, const int32_t *groups, const uint32_t *rows, int group_count, int32_t *y,
    const qat_depthwise_geometry *g) {
  plane_bytes(x, 0, 2, fill, groups, rows, group_count, y, g);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) static void plane_stride1_s8(
    const uint8_t *x, uint8_t fill, const int32_t *groups, const uint32_t *rows, int group_count, int32_t *y,
    const qat_depthwise_geometry *g) {
  plane_bytes(x, 1, 1, fill, groups, rows, group_count, y, g);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) static void plane_stride2_s8(
    const uint8_t *x, uint8_t fill, const int32_t *groups, const uint32_t *rows, int group_count, int32_t *y,
    const qat_depthwise_geometry *g) {
  plane_bytes(x, 1, 2, fill, groups, rows, group_count, y, g);
}

int qat_depthwise_plane_int8_vnni_bytes(const void *x, int x_signed, int32_t x_zero, const int32_t *weights,
                                        int32_t *y, const qat_depthwise_geometry *g, int32_t *groups,
                                        uint32_t *rows) {
  if (g->out_h <= 0 || g->out_w <= 0) return 1;
  if (!accepts_geometry(x_signed, x_zero, g)) return 0;
  const int taps = g->kernel_h * g->kernel_w;
  for (int tap = 0; tap < taps; tap++)
    if (weights[tap] < -128 || weights[tap] > 127) return 0;
  // The padding byte as stored, and the zero point as vpdpbusd sees it (top bit flipped for int8).
  const uint8_t fill = (uint8_t)x_zero;
  const uint32_t zero = x_signed ? (uint32_t)(x_zero + 128) : (uint32_t)x_zero;
  const int group_count = (g->kernel_w + 3) / 4;
  for (int ky = 0; ky < g->kernel_h; ky++) {
    uint32_t sum = 0;
    for (int group = 0; group < group_count; group++) {
      uint32_t packed = 0;
      for (int t = 0; t < 4; t++) {
        const int kx = 4 * group + t;
        if (kx >= g->kernel_w) break;
        const int32_t value = weights[ky * g->kernel_w + kx];
        packed |= (uint32_t)(uint8_t)(int8_t)value << (8 * t);
        sum += (uint32_t)value;
      }
      groups[ky * group_count + group] = (int32_t)packed;
    }
    rows[ky] = zero * sum;
  }
  const uint8_t *bytes = (const uint8_t *)x;
  if (x_signed) {
    if (g->stride_w == 1) plane_stride1_s8(bytes, fill, groups, rows, group_count, y, g);
    else plane_stride2_s8(bytes, fill, groups, rows, group_count, y, g);
  } else {
    if (g->stride_w == 1) plane_stride1_u8(bytes, fill, groups, rows, group_count, y, g);
    else plane_stride2_u8(bytes, fill, groups, rows, group_count, y, g);
  }
  return 1;
}

#else

int qat_depthwise_plane_int8_vnni_bytes(const void *x, int x_signed, int32_t x_zero, const int32_t *weights,
                                        int32_t *y, const qat_depthwise_geometry *g, int32_t *groups,
                                        uint32_t *rows) {
  (void)groups, (void)rows, (void)x, (void)x_signed, (void)x_zero, (void)weights, (void)y, (void)g;
  return 0;
}

#endif
