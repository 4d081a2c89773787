// A float Conv's im2col columns written straight into the float GEMM's packed right operand
// (NeuralNetworkPackedB with 16-column slivers), with AVX-512: each sliver's 16 columns under
// one im2col row are built run by run (im2col_runs.h), at stride 1 one masked load (the lanes
// whose input lies inside the image; the others, and the columns past n, read nothing and hold
// 0), at stride 2 two masked loads whose even elements vpermt2ps gathers. The values are moved,
// not computed: the same bits as Im2col.expandPacked.
#include "CIntegerKernels.h"
#include "cpu_features.h"
#include "im2col_runs.h"

#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_IM2COL_F32_X86 1
#endif

int qat_im2col_packed_f32_vector(const qat_depthwise_geometry *g) {
#ifdef QAT_IM2COL_F32_X86
  return qat_cpu_has_avx512() && qat_run_geometry_fits(g);
#else
  (void)g;
  return 0;
#endif
}

#ifdef QAT_IM2COL_F32_X86
/// The sliver's 16 values of one im2col row: the image's where the runs have them, else 0.
QAT_RUN_AVX512 static inline __attribute__((always_inline)) __m512 sliver_row(const float *plane,
                                                                                 const qat_run_columns *columns,
                                                                                 const ptrdiff_t *rows, int runs,
                                                                                 int stride) {
  const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  __m512 row = _mm512_setzero_ps();
  for (int run = 0; run < runs; run++) {
    if (rows[run] < 0 || columns[run].mask == 0) continue;
    // Masked-off lanes are never read, so the start may lie outside the plane.
    const float *start =
        (const float *)((uintptr_t)plane + (uintptr_t)((rows[run] + columns[run].offset) * (ptrdiff_t)sizeof(float)));
    if (stride == 1) {
      row = _mm512_mask_loadu_ps(row, (__mmask16)columns[run].mask, start);
    } else {
      const __m512 low = _mm512_maskz_loadu_ps((__mmask16)columns[run].mask, start);
      const __m512 high = _mm512_maskz_loadu_ps((__mmask16)(columns[run].mask >> 16), start + 16);
      row = _mm512_mask_mov_ps(row, (__mmask16)columns[run].lanes, _mm512_permutex2var_ps(low, evens, high));
    }
  }
  return row;
}

/// One sliver's rows into the packed layout, given its tables; inlined per (stride, one run or
/// more) so the row loop tests neither.
QAT_RUN_AVX512 static inline __attribute__((always_inline)) void sliver_rows(
    const float *x, int channels, const qat_depthwise_geometry *g, const qat_run_columns *columns_table,
    const ptrdiff_t *rows_table, int runs, int stride, int sliver, int slivers, int depth_block, float *packed) {
  const ptrdiff_t plane_size = (ptrdiff_t)g->in_h * g->in_w;
  const int k = channels * g->kernel_h * g->kernel_w;
  const float *plane = x;
  int ky = 0, kx = 0;
  for (int p0 = 0; p0 < k; p0 += depth_block) {
    const int depth = k - p0 < depth_block ? k - p0 : depth_block;
    float *target = packed + (ptrdiff_t)slivers * QAT_RUN_GROUP * p0 + (ptrdiff_t)sliver * QAT_RUN_GROUP * depth;
    for (int p = 0; p < depth; p++, target += QAT_RUN_GROUP) {
      // Row p0 + p is channel, kernel row and kernel column (plane, ky, kx), walked row by row.
      _mm512_storeu_ps(target, sliver_row(plane, columns_table + kx * runs, rows_table + ky * runs, runs, stride));
      if (++kx == g->kernel_w) {
        kx = 0;
        if (++ky == g->kernel_h) {
          ky = 0;
          plane += plane_size;
        }
      }
    }
  }
}

QAT_RUN_AVX512 static void slivers_avx512(const float *x, int channels, const qat_depthwise_geometry *g,
                                             int first_line, int lines, int depth_block, int first_sliver,
                                             int end_sliver, float *packed) {
  const int n = lines * g->out_w;
  const int slivers = (n + QAT_RUN_GROUP - 1) / QAT_RUN_GROUP;
  qat_run_columns columns_table[QAT_RUN_TABLE];
  ptrdiff_t rows_table[QAT_RUN_TABLE];
  for (int sliver = first_sliver; sliver < end_sliver; sliver++) {
    const int first = sliver * QAT_RUN_GROUP;
    const int columns = n - first < QAT_RUN_GROUP ? n - first : QAT_RUN_GROUP;
    const int runs = qat_run_tables(g, first_line, first, columns, columns_table, rows_table);
    if (g->stride_w == 1 && runs == 1)
      sliver_rows(x, channels, g, columns_table, rows_table, 1, 1, sliver, slivers, depth_block, packed);
    else if (g->stride_w == 1)
      sliver_rows(x, channels, g, columns_table, rows_table, runs, 1, sliver, slivers, depth_block, packed);
    else if (runs == 1)
      sliver_rows(x, channels, g, columns_table, rows_table, 1, 2, sliver, slivers, depth_block, packed);
    else
      sliver_rows(x, channels, g, columns_table, rows_table, runs, 2, sliver, slivers, depth_block, packed);
  }
}
#endif

int qat_im2col_packed_f32(const float *x, int channels, const qat_depthwise_geometry *g, int first_line, int lines,
                          int depth_block, int first_sliver, int end_sliver, float *packed) {
#ifdef QAT_IM2COL_F32_X86
  if (!qat_im2col_packed_f32_vector(g) || depth_block <= 0) return 0;
  slivers_avx512(x, channels, g, first_line, lines, depth_block, first_sliver, end_sliver, packed);
  return 1;
#else
  (void)x, (void)channels, (void)g, (void)first_line, (void)lines, (void)depth_block;
  (void)first_sliver, (void)end_sliver, (void)packed;
  return 0;
#endif
}
