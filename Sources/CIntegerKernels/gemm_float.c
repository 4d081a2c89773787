// The float32 GEMM's macro-kernel over one packed block (NeuralNetworkGEMM's 6 x 16 tile): every
// element of a tile starts from 0 and gets one fused multiply-add per k, k ascending; the tile's
// sums are then added to C (or to the row's start value, C not read). The AVX2 + FMA path keeps
// the 12 accumulators in ymm registers and prefetches the tile's C rows before its k loop (the
// C tile is read and written once per K block, after a loop that takes hundreds of cycles);
// the portable path computes the same fused products with fmaf, so both give the same bits as
// each other and as a plain loop in the same order.
#include "CIntegerKernels.h"

#include <math.h>

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_GEMM_FLOAT_X86 1
#endif

#define TILE_ROWS QAT_FLOAT_TILE_ROWS
#define TILE_COLUMNS QAT_FLOAT_TILE_COLUMNS

/// C[row, column] for the `rows` x `columns` corner of one tile of sums `tile` (TILE_ROWS x
/// TILE_COLUMNS, row-major): C + sum, or start[row] + sum (0 + sum without start) when `overwrite`.
static void store_tile(const float *tile, int rows, int columns, float *c, ptrdiff_t ldc, int overwrite,
                       const float *start) {
  for (int r = 0; r < rows; r++) {
    float *target = c + r * ldc;
    const float first = start ? start[r] : 0.0f;
    for (int j = 0; j < columns; j++) {
      target[j] = overwrite ? first + tile[r * TILE_COLUMNS + j] : target[j] + tile[r * TILE_COLUMNS + j];
    }
  }
}

static void tile_portable(int depth, const float *a, const float *b, float *c, ptrdiff_t ldc, int rows, int columns,
                          int overwrite, const float *start) {
  float tile[TILE_ROWS * TILE_COLUMNS] = {0};
  for (int p = 0; p < depth; p++) {
    for (int r = 0; r < TILE_ROWS; r++) {
      for (int j = 0; j < TILE_COLUMNS; j++) {
        tile[r * TILE_COLUMNS + j] = fmaf(a[p * TILE_ROWS + r], b[p * TILE_COLUMNS + j], tile[r * TILE_COLUMNS + j]);
      }
    }
  }
  store_tile(tile, rows, columns, c, ldc, overwrite, start);
}

#ifdef QAT_GEMM_FLOAT_X86
static int qat_gemm_float_portable = 0;

static int gemm_float_has_avx2(void) {
  static int state = -1;
  if (qat_gemm_float_portable) return 0;
  if (state < 0) {
    __builtin_cpu_init();
    state = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
  }
  return state;
}

/// One row of the tile: C (or the start value) + the row's two accumulators.
__attribute__((target("avx2,fma"))) static inline void store_row(float *target, __m256 low, __m256 high,
                                                                 int overwrite, const float *start, int r) {
  __m256 base_low, base_high;
  if (overwrite) {
    base_low = base_high = _mm256_set1_ps(start ? start[r] : 0.0f);
  } else {
    base_low = _mm256_loadu_ps(target);
    base_high = _mm256_loadu_ps(target + 8);
  }
  _mm256_storeu_ps(target, _mm256_add_ps(base_low, low));
  _mm256_storeu_ps(target + 8, _mm256_add_ps(base_high, high));
}

__attribute__((target("avx2,fma"))) static void tile_avx2(int depth, const float *a, const float *b, float *c,
                                                          ptrdiff_t ldc, int rows, int columns, int overwrite,
                                                          const float *start) {
  if (!overwrite) {
    for (int r = 0; r < rows; r++) {
      _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
      _mm_prefetch((const char *)(c + r * ldc + TILE_COLUMNS - 1), _MM_HINT_T0);
    }
  }
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int p = 0; p < depth; p++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
    a += TILE_ROWS;
    b += TILE_COLUMNS;
  }
  if (columns == TILE_COLUMNS) {
    store_row(c, c00, c01, overwrite, start, 0);
    if (rows > 1) store_row(c + ldc, c10, c11, overwrite, start, 1);
    if (rows > 2) store_row(c + 2 * ldc, c20, c21, overwrite, start, 2);
    if (rows > 3) store_row(c + 3 * ldc, c30, c31, overwrite, start, 3);
    if (rows > 4) store_row(c + 4 * ldc, c40, c41, overwrite, start, 4);
    if (rows > 5) store_row(c + 5 * ldc, c50, c51, overwrite, start, 5);
    return;
  }
  float tile[TILE_ROWS * TILE_COLUMNS];
  const __m256 sums[2 * TILE_ROWS] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int i = 0; i < 2 * TILE_ROWS; i++) _mm256_storeu_ps(tile + 8 * i, sums[i]);
  store_tile(tile, rows, columns, c, ldc, overwrite, start);
}
#endif

void qat_gemm_float_set_portable(int portable) {
#ifdef QAT_GEMM_FLOAT_X86
  qat_gemm_float_portable = portable;
#else
  (void)portable;
#endif
}

void qat_gemm_float_block(int depth, const float *a, int rows, const float *b, int first_sliver, int end_sliver,
                          int width, float *c, ptrdiff_t ldc, int overwrite, const float *start) {
#ifdef QAT_GEMM_FLOAT_X86
  const int fast = gemm_float_has_avx2();
#endif
  for (int sliver = first_sliver; sliver < end_sliver; sliver++) {
    const int j = sliver * TILE_COLUMNS;
    const int columns = width - j < TILE_COLUMNS ? width - j : TILE_COLUMNS;
    const float *pb = b + (ptrdiff_t)sliver * TILE_COLUMNS * depth;
    for (int i = 0; i < rows; i += TILE_ROWS) {
      const int tile_rows = rows - i < TILE_ROWS ? rows - i : TILE_ROWS;
      const float *pa = a + (ptrdiff_t)(i / TILE_ROWS) * TILE_ROWS * depth;
      float *pc = c + i * ldc + j;
      const float *ps = start ? start + i : NULL;
#ifdef QAT_GEMM_FLOAT_X86
      if (fast) {
        tile_avx2(depth, pa, pb, pc, ldc, tile_rows, columns, overwrite, ps);
        continue;
      }
#endif
      tile_portable(depth, pa, pb, pc, ldc, tile_rows, columns, overwrite, ps);
    }
  }
}
