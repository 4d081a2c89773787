// The float32 GEMM's macro-kernel over one packed block (NeuralNetworkGEMM's 6 x 16 tile): every
// element of a tile starts from 0 and gets one fused multiply-add per k, k ascending; the tile's
// sums are then added to C (or to the row's start value, C not read). Three paths, chosen at run
// time, give the same bits as each other and as a plain loop in the same order, because each
// computes every element with that same chain of fused operations (only the number of elements
// done at once differs):
// - AVX-512 (avx512f): two adjacent 16-column B slivers at once, a 6 x 32 tile in 12 zmm
//   accumulators (a trailing odd sliver takes 12 x 16 tiles over two A slivers, and 6 x 16 ones
//   for its last 6 rows or fewer), partial columns stored through k-masks;
// - AVX2 + FMA: the 6 x 16 tile in 12 ymm accumulators;
// - portable: the same fused products with fmaf.
// The vector paths prefetch the tile's C rows before the k loop (the C tile is read and written
// once per K block, after a loop that takes hundreds of cycles).
#include "CIntegerKernels.h"
#include "cpu_features.h"
#include "float_epilogue.h"

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
/// The highest path allowed (`qat_gemm_float_set_level`; tests lower it).
static int gemm_float_allowed = QAT_GEMM_FLOAT_AVX512;

/// The best path this CPU runs.
static int gemm_float_supported(void) {
  if (qat_cpu_has_avx512()) return QAT_GEMM_FLOAT_AVX512;
  return qat_cpu_has_avx2_fma() ? QAT_GEMM_FLOAT_AVX2 : QAT_GEMM_FLOAT_PORTABLE;
}
#endif

int qat_gemm_float_level(void) {
#ifdef QAT_GEMM_FLOAT_X86
  const int supported = gemm_float_supported();
  return gemm_float_allowed < supported ? gemm_float_allowed : supported;
#else
  return QAT_GEMM_FLOAT_PORTABLE;
#endif
}

void qat_gemm_float_set_level(int level) {
#ifdef QAT_GEMM_FLOAT_X86
  gemm_float_allowed = level;
#else
  (void)level;
#endif
}

void qat_gemm_float_set_portable(int portable) {
  qat_gemm_float_set_level(portable ? QAT_GEMM_FLOAT_PORTABLE : QAT_GEMM_FLOAT_AVX512);
}

#ifdef QAT_GEMM_FLOAT_X86
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

/// One 16-column row of an AVX-512 tile: C (or the start value) + the row's accumulator, the
/// columns outside `mask` neither read nor written.
__attribute__((target("avx512f"), always_inline)) static inline void store_row_avx512(float *target, __m512 sum,
                                                                                     __mmask16 mask, int overwrite,
                                                                                     float first) {
  if (mask == 0xFFFF) {
    const __m512 base = overwrite ? _mm512_set1_ps(first) : _mm512_loadu_ps(target);
    _mm512_storeu_ps(target, _mm512_add_ps(base, sum));
  } else {
    const __m512 base = overwrite ? _mm512_set1_ps(first) : _mm512_maskz_loadu_ps(mask, target);
    _mm512_mask_storeu_ps(target, mask, _mm512_add_ps(base, sum));
  }
}

/// The mask of the first `count` of 16 lanes (none when `count` <= 0, all when >= 16).
static inline __mmask16 lanes(int count) {
  return count <= 0 ? 0 : count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1);
}

/// A 6 x 16 (`wide` 0) or 6 x 32 (`wide` 1: B slivers `b` and `b + 16 * depth`) tile in zmm
/// registers: per k, one zmm of B per sliver, one broadcast of A per row, one fused
/// multiply-add per accumulator (the operands in the order of `tile_avx2`), then the sums of the
/// first `rows` rows and `columns` columns added to C or to the start values. Inlined into two
/// callers with `wide` constant, so the unused accumulators of the narrow tile disappear.
__attribute__((target("avx512f"), always_inline)) static inline void tile_avx512(int depth, const float *a,
                                                                                const float *b, int wide, float *c,
                                                                                ptrdiff_t ldc, int rows, int columns,
                                                                                int overwrite, const float *start) {
  if (!overwrite) {
    for (int r = 0; r < rows; r++) {
      _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
      _mm_prefetch((const char *)(c + r * ldc + TILE_COLUMNS - 1), _MM_HINT_T0);
      if (wide) _mm_prefetch((const char *)(c + r * ldc + 2 * TILE_COLUMNS - 1), _MM_HINT_T0);
    }
  }
  const float *b1 = b + (ptrdiff_t)TILE_COLUMNS * depth;
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  for (int p = 0; p < depth; p++) {
    const __m512 b0v = _mm512_loadu_ps(b);
    const __m512 b1v = wide ? _mm512_loadu_ps(b1) : b0v;
    __m512 ai = _mm512_set1_ps(a[0]);
    c00 = _mm512_fmadd_ps(ai, b0v, c00);
    if (wide) c01 = _mm512_fmadd_ps(ai, b1v, c01);
    ai = _mm512_set1_ps(a[1]);
    c10 = _mm512_fmadd_ps(ai, b0v, c10);
    if (wide) c11 = _mm512_fmadd_ps(ai, b1v, c11);
    ai = _mm512_set1_ps(a[2]);
    c20 = _mm512_fmadd_ps(ai, b0v, c20);
    if (wide) c21 = _mm512_fmadd_ps(ai, b1v, c21);
    ai = _mm512_set1_ps(a[3]);
    c30 = _mm512_fmadd_ps(ai, b0v, c30);
    if (wide) c31 = _mm512_fmadd_ps(ai, b1v, c31);
    ai = _mm512_set1_ps(a[4]);
    c40 = _mm512_fmadd_ps(ai, b0v, c40);
    if (wide) c41 = _mm512_fmadd_ps(ai, b1v, c41);
    ai = _mm512_set1_ps(a[5]);
    c50 = _mm512_fmadd_ps(ai, b0v, c50);
    if (wide) c51 = _mm512_fmadd_ps(ai, b1v, c51);
    a += TILE_ROWS;
    b += TILE_COLUMNS;
    b1 += TILE_COLUMNS;
  }
  const __mmask16 mask0 = lanes(columns), mask1 = lanes(columns - TILE_COLUMNS);
  const __m512 sums[2 * TILE_ROWS] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int r = 0; r < rows; r++) {
    float *target = c + r * ldc;
    const float first = overwrite && start ? start[r] : 0.0f;
    store_row_avx512(target, sums[2 * r], mask0, overwrite, first);
    if (wide && mask1) store_row_avx512(target + TILE_COLUMNS, sums[2 * r + 1], mask1, overwrite, first);
  }
}

/// `tile_avx512` over two adjacent slivers (`columns` up to 32).
__attribute__((target("avx512f"))) static void tile_pair_avx512(int depth, const float *a, const float *b, float *c,
                                                                ptrdiff_t ldc, int rows, int columns, int overwrite,
                                                                const float *start) {
  tile_avx512(depth, a, b, 1, c, ldc, rows, columns, overwrite, start);
}

/// A 12 x 16 tile over one B sliver and two A slivers (`a` and `a + 6 * depth`, rows `rows` up to
/// 12) in 12 zmm accumulators: the odd sliver of a run takes it rather than two 6 x 16 tiles,
/// whose 6 accumulators are too few to keep both FMA pipes busy (each element's chain is that
/// of `tile_avx512`: one fused multiply-add per k, k ascending, then the add to C or the start).
__attribute__((target("avx512f"))) static void tile_tall_avx512(int depth, const float *a, const float *b, float *c,
                                                                ptrdiff_t ldc, int rows, int columns, int overwrite,
                                                                const float *start) {
  if (!overwrite) {
    for (int r = 0; r < rows; r++) {
      _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
      _mm_prefetch((const char *)(c + r * ldc + TILE_COLUMNS - 1), _MM_HINT_T0);
    }
  }
  const float *a1 = a + (ptrdiff_t)TILE_ROWS * depth;
  __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps();
  __m512 c3 = _mm512_setzero_ps(), c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps();
  __m512 c6 = _mm512_setzero_ps(), c7 = _mm512_setzero_ps(), c8 = _mm512_setzero_ps();
  __m512 c9 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  for (int p = 0; p < depth; p++) {
    const __m512 bv = _mm512_loadu_ps(b);
    c0 = _mm512_fmadd_ps(_mm512_set1_ps(a[0]), bv, c0);
    c1 = _mm512_fmadd_ps(_mm512_set1_ps(a[1]), bv, c1);
    c2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2]), bv, c2);
    c3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3]), bv, c3);
    c4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4]), bv, c4);
    c5 = _mm512_fmadd_ps(_mm512_set1_ps(a[5]), bv, c5);
    c6 = _mm512_fmadd_ps(_mm512_set1_ps(a1[0]), bv, c6);
    c7 = _mm512_fmadd_ps(_mm512_set1_ps(a1[1]), bv, c7);
    c8 = _mm512_fmadd_ps(_mm512_set1_ps(a1[2]), bv, c8);
    c9 = _mm512_fmadd_ps(_mm512_set1_ps(a1[3]), bv, c9);
    c10 = _mm512_fmadd_ps(_mm512_set1_ps(a1[4]), bv, c10);
    c11 = _mm512_fmadd_ps(_mm512_set1_ps(a1[5]), bv, c11);
    a += TILE_ROWS;
    a1 += TILE_ROWS;
    b += TILE_COLUMNS;
  }
  const __mmask16 mask = lanes(columns);
  const __m512 sums[2 * TILE_ROWS] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
  for (int r = 0; r < rows; r++) {
    store_row_avx512(c + r * ldc, sums[r], mask, overwrite, overwrite && start ? start[r] : 0.0f);
  }
}

/// `tile_avx512` over one sliver (`columns` up to 16).
__attribute__((target("avx512f"))) static void tile_single_avx512(int depth, const float *a, const float *b, float *c,
                                                                  ptrdiff_t ldc, int rows, int columns, int overwrite,
                                                                  const float *start) {
  tile_avx512(depth, a, b, 0, c, ldc, rows, columns, overwrite, start);
}
#endif

/// The fused epilogue of rows [0, rows) and columns [0, columns) of a tile just stored at `c`
/// (still in L1), row r with `epilogues[r]`: the operations of `qat_float_epilogue_apply`.
static void epilogue_tile_portable(float *c, ptrdiff_t ldc, int rows, int columns,
                                   const qat_float_epilogue *epilogues) {
  for (int r = 0; r < rows; r++) {
    float *row = c + r * ldc;
    for (int j = 0; j < columns; j++) row[j] = qat_epilogue_scalar(row[j], epilogues + r);
  }
}

#ifdef QAT_GEMM_FLOAT_X86
__attribute__((target("avx2"))) static void epilogue_tile_avx2(float *c, ptrdiff_t ldc, int rows, int columns,
                                                               const qat_float_epilogue *epilogues) {
  for (int r = 0; r < rows; r++) {
    const qat_float_epilogue e = epilogues[r];
    float *row = c + r * ldc;
    int j = 0;
    for (; j + 8 <= columns; j += 8) _mm256_storeu_ps(row + j, qat_epilogue_vector(_mm256_loadu_ps(row + j), &e));
    for (; j < columns; j++) row[j] = qat_epilogue_scalar(row[j], &e);
  }
}

__attribute__((target("avx512f"))) static void epilogue_tile_avx512(float *c, ptrdiff_t ldc, int rows, int columns,
                                                                    const qat_float_epilogue *epilogues) {
  for (int r = 0; r < rows; r++) {
    const qat_float_epilogue e = epilogues[r];
    float *row = c + r * ldc;
    for (int j = 0; j < columns; j += 16) {
      const __mmask16 mask = lanes(columns - j);
      _mm512_mask_storeu_ps(row + j, mask, qat_epilogue_vector512(_mm512_maskz_loadu_ps(mask, row + j), &e));
    }
  }
}
#endif

void qat_gemm_float_block(int depth, const float *a, int rows, const float *b, int first_sliver, int end_sliver,
                          int width, float *c, ptrdiff_t ldc, int overwrite, const float *start) {
  qat_gemm_float_block_epilogue(depth, a, rows, b, first_sliver, end_sliver, width, c, ldc, overwrite, start, NULL);
}

void qat_gemm_float_block_epilogue(int depth, const float *a, int rows, const float *b, int first_sliver,
                                   int end_sliver, int width, float *c, ptrdiff_t ldc, int overwrite,
                                   const float *start, const qat_float_epilogue *epilogues) {
  int sliver = first_sliver;
#ifdef QAT_GEMM_FLOAT_X86
  const int level = qat_gemm_float_level();
  if (level == QAT_GEMM_FLOAT_AVX512) {
    // Slivers two at a time, then the odd one out: the tiles cover the same elements as the
    // 16-column ones, each element summed in the same order.
    for (; sliver < end_sliver; sliver += 2) {
      const int j = sliver * TILE_COLUMNS;
      const int pair = sliver + 1 < end_sliver;
      const int span = pair ? 2 * TILE_COLUMNS : TILE_COLUMNS;
      const int columns = width - j < span ? width - j : span;
      const float *pb = b + (ptrdiff_t)sliver * TILE_COLUMNS * depth;
      int i = 0;
      if (!pair) {
        // The odd sliver: two A slivers at a time while more than 6 rows remain.
        for (; i + TILE_ROWS < rows; i += 2 * TILE_ROWS) {
          const int tile_rows = rows - i < 2 * TILE_ROWS ? rows - i : 2 * TILE_ROWS;
          const float *pa = a + (ptrdiff_t)(i / TILE_ROWS) * TILE_ROWS * depth;
          tile_tall_avx512(depth, pa, pb, c + i * ldc + j, ldc, tile_rows, columns, overwrite, start ? start + i : NULL);
          if (epilogues) epilogue_tile_avx512(c + i * ldc + j, ldc, tile_rows, columns, epilogues + i);
        }
      }
      for (; i < rows; i += TILE_ROWS) {
        const int tile_rows = rows - i < TILE_ROWS ? rows - i : TILE_ROWS;
        const float *pa = a + (ptrdiff_t)(i / TILE_ROWS) * TILE_ROWS * depth;
        float *pc = c + i * ldc + j;
        const float *ps = start ? start + i : NULL;
        if (pair) {
          tile_pair_avx512(depth, pa, pb, pc, ldc, tile_rows, columns, overwrite, ps);
        } else {
          tile_single_avx512(depth, pa, pb, pc, ldc, tile_rows, columns, overwrite, ps);
        }
        if (epilogues) epilogue_tile_avx512(pc, ldc, tile_rows, columns, epilogues + i);
      }
    }
    return;
  }
#endif
  for (; sliver < end_sliver; sliver++) {
    const int j = sliver * TILE_COLUMNS;
    const int columns = width - j < TILE_COLUMNS ? width - j : TILE_COLUMNS;
    const float *pb = b + (ptrdiff_t)sliver * TILE_COLUMNS * depth;
    for (int i = 0; i < rows; i += TILE_ROWS) {
      const int tile_rows = rows - i < TILE_ROWS ? rows - i : TILE_ROWS;
      const float *pa = a + (ptrdiff_t)(i / TILE_ROWS) * TILE_ROWS * depth;
      float *pc = c + i * ldc + j;
      const float *ps = start ? start + i : NULL;
#ifdef QAT_GEMM_FLOAT_X86
      if (level == QAT_GEMM_FLOAT_AVX2) {
        tile_avx2(depth, pa, pb, pc, ldc, tile_rows, columns, overwrite, ps);
        if (epilogues) epilogue_tile_avx2(pc, ldc, tile_rows, columns, epilogues + i);
        continue;
      }
#endif
      tile_portable(depth, pa, pb, pc, ldc, tile_rows, columns, overwrite, ps);
      if (epilogues) epilogue_tile_portable(pc, ldc, tile_rows, columns, epilogues + i);
    }
  }
}
