/// Exact 8-bit integer matrix products for onnx-qat's executor (int16 pairs multiplied and added
/// into int32 with AVX2's vpmaddwd, a portable loop otherwise). Swift's SIMD types do not lower
/// to vpmaddwd (checked with swiftc -emit-assembly: they give vpmulld and shuffles), so this small
/// C target holds the AVX2 intrinsics; everything else stays in Swift.
#ifndef CINTEGERKERNELS_H
#define CINTEGERKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Rows of A per micro-kernel tile.
#define QAT_TILE_ROWS 6
/// Columns of B per packed panel.
#define QAT_PANEL_COLUMNS 16

/// K rounded up to an even count (the packed depth in int16 elements).
static inline int qat_packed_depth(int k) { return (k + 1) & ~1; }

/// int16 elements of A packed by `qat_pack_a` for m rows and depth k.
static inline size_t qat_packed_a_count(int m, int k) {
  return (size_t)((m + QAT_TILE_ROWS - 1) / QAT_TILE_ROWS) * (size_t)qat_packed_depth(k) * QAT_TILE_ROWS;
}

/// int16 elements of one B panel packed by `qat_pack_b_panel` for depth k.
static inline size_t qat_packed_panel_count(int k) { return (size_t)qat_packed_depth(k) * QAT_PANEL_COLUMNS; }

/// Packs A (m x k, 8-bit, row stride `lda` bytes; `is_signed` picks int8 over uint8) minus the
/// zero point of each row (`zero[row * zero_stride]`; stride 0 for one zero point) as int16 pairs
/// `packed[tile][k / 2][QAT_TILE_ROWS][2]`; rows past m and the odd k's partner are zero.
void qat_pack_a(const void *a, int is_signed, ptrdiff_t lda, int m, int k, const int32_t *zero,
                ptrdiff_t zero_stride, int16_t *packed);

/// Packs columns `panel * 16 ..< panel * 16 + 16` of B (k x n, 8-bit, row stride `ldb` bytes)
/// minus the zero point of each column (`zero[column * zero_stride]`) as int16 pairs
/// `packed[k / 2][QAT_PANEL_COLUMNS][2]`; columns past n and the odd k's partner are zero.
void qat_pack_b_panel(const void *b, int is_signed, ptrdiff_t ldb, int k, int n, const int32_t *zero,
                      ptrdiff_t zero_stride, int panel, int16_t *packed);

/// `c[row, column] = sum_k a'[row, k] * b'[k, column]` in exact int32 for every row of packed A
/// (m rows) and the columns of one packed B panel (`panel`, clipped to n), C row stride `ldc`.
void qat_gemm_panel(const int16_t *packed_a, const int16_t *packed_panel, int m, int k, int n, int panel,
                    int32_t *c, ptrdiff_t ldc);

/// Tests only: nonzero makes the two functions above take their portable loops even on AVX2.
void qat_set_portable(int portable);

/// The sliding-window geometry of one 2-D depthwise plane (input and output sizes, kernel,
/// strides, dilations, top and left pads).
typedef struct {
  int in_h, in_w, out_h, out_w;
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int dilation_h, dilation_w;
  int pad_top, pad_left;
} qat_depthwise_geometry;

/// Floats of scratch `qat_depthwise_plane_f32` needs for geometry `g` (the zero-padded copy).
size_t qat_depthwise_f32_scratch_floats(const qat_depthwise_geometry *g);

/// One float plane of a 2-D depthwise convolution over the zero-padded input:
/// `y[oy, ox] = bias + s`, where `s` starts at 0 and takes one fused multiply-add
/// `s = fma(w[tap], x_padded[...], s)` per kernel tap in (ky, kx) order, taps in the padding
/// included (they read 0): the bits of a one-channel Conv through im2col and the GEMM's
/// macro-kernel. `w` holds `kernel_h * kernel_w` weights, `y` `out_h * out_w` floats, all
/// written; `scratch` holds `qat_depthwise_f32_scratch_floats(g)` floats (any alignment).
/// Nonzero `borders_ready` says that `scratch` is unchanged since a call with the same geometry
/// (its padding is still zero, so only the input's elements are copied).
void qat_depthwise_plane_f32(const float *x, const float *w, float bias, float *y, const qat_depthwise_geometry *g,
                             float *scratch, int borders_ready);

/// Tests only: nonzero makes `qat_depthwise_plane_f32` take its portable loop even on AVX2.
void qat_depthwise_set_portable(int portable);

/// Tests only: the widest path `qat_depthwise_plane_f32` may take: 2 AVX-512 (the default, when
/// the CPU has it), 1 AVX2, 0 the portable loop.
void qat_depthwise_set_level(int level);

/// `qat_float_epilogue.activation`: none.
#define QAT_EPILOGUE_NO_ACTIVATION 0
/// `qat_float_epilogue.activation`: Relu, `v > 0 ? v : 0`.
#define QAT_EPILOGUE_RELU 1
/// `qat_float_epilogue.activation`: Clip, `high < r ? high : r` of `r = low >= v ? low : v`.
#define QAT_EPILOGUE_CLIP 2
/// `qat_float_epilogue.activation`: LeakyRelu, `v < 0 ? alpha * v : v`.
#define QAT_EPILOGUE_LEAKY_RELU 3

/// What a fused Conv epilogue does to each float output `v`: when `normalize` is nonzero
/// `v = v * factor + shift` (product and sum rounded apart, as an inference BatchNormalization),
/// then the activation (`QAT_EPILOGUE_*`, with `low`, `high` or `alpha`).
typedef struct {
  int normalize;
  float factor, shift;
  int activation;
  float low, high, alpha;
} qat_float_epilogue;

/// Applies `epilogue` to `count` floats in place (AVX2 eight at a time when available; the same
/// bits either way).
void qat_float_epilogue_apply(float *values, ptrdiff_t count, const qat_float_epilogue *epilogue);

/// `qat_depthwise_plane_f32` with `epilogue` (NULL: none) applied to each output as it is stored,
/// so the plane's outputs equal the kernel's followed by the epilogue's operations in order.
void qat_depthwise_plane_f32_fused(const float *x, const float *w, float bias, float *y,
                                   const qat_depthwise_geometry *g, float *scratch, int borders_ready,
                                   const qat_float_epilogue *epilogue);

/// Bytes of scratch `qat_depthwise_plane_int8` needs for geometry `g` (any alignment).
size_t qat_depthwise_int8_scratch_bytes(const qat_depthwise_geometry *g);

/// One 8-bit plane of a 2-D depthwise convolution with exact int32 results:
/// `y[oy, ox] = sum_{ky, kx} (x[...] - x_zero) * (w[ky * kernel_w + kx] - w_zero)` over the taps
/// inside the image (int32 wrap-around). `x` holds `in_h * in_w` bytes and `w` `kernel_h * kernel_w`
/// (int8 when the `*_signed` flag is nonzero, else uint8); the zero points are values of the same
/// types. `y` gets `out_h * out_w` int32, all written; `scratch` holds
/// `qat_depthwise_int8_scratch_bytes(g)` bytes.
void qat_depthwise_plane_int8(const void *x, int x_signed, int32_t x_zero, const void *w, int w_signed,
                              int32_t w_zero, int32_t *y, const qat_depthwise_geometry *g, void *scratch);

/// Tests only: nonzero makes `qat_depthwise_plane_int8` take its portable loop even on AVX2;
/// zero restores the best level.
void qat_depthwise_int8_set_portable(int portable);

/// The level of `qat_depthwise_plane_int8` above QAT_U8S8_AVX512_VNNI (and needing the same CPU):
/// vpdpbusd straight on the input bytes, for stride_w 1 or 2 with dilation_w 1 and weights
/// `w - w_zero` in [-128, 127]; other planes take the QAT_U8S8_AVX512_VNNI loops.
#define QAT_DEPTHWISE_INT8_VNNI_BYTES 4

/// Tests only: 1 when `qat_depthwise_plane_int8` at level QAT_DEPTHWISE_INT8_VNNI_BYTES takes its
/// byte path for these operands and geometry (on any CPU: it says what the level would do), else 0.
int qat_depthwise_int8_bytes_accepts(int x_signed, int32_t x_zero, const void *w, int w_signed, int32_t w_zero,
                                     const qat_depthwise_geometry *g);

/// Tests only: makes `qat_depthwise_plane_int8` run at `level` (the QAT_U8S8_* levels: portable,
/// AVX2, or AVX512-VNNI, whose zmm vpdpwssd loop takes stride 1 with dilation 1 and the AVX2 loops
/// the rest; AVX-VNNI runs the AVX2 loops; or QAT_DEPTHWISE_INT8_VNNI_BYTES, the default on an
/// AVX512-VNNI CPU; capped at the best this CPU has; negative: the best again) and returns the
/// level now in effect. The same bits at every level.
int qat_depthwise_int8_set_level(int level);

/// Rows of A per tile of the u8 x s8 product (`qat_gemm_panel_u8s8`).
#define QAT_QUAD_TILE_ROWS 4

/// K rounded up to a multiple of four (the packed depth of the u8 x s8 product, in bytes).
static inline int qat_quad_depth(int k) { return (k + 3) & ~3; }

/// int8 elements of A packed by `qat_pack_a_quads` for m rows and depth k.
static inline size_t qat_packed_a_quads_count(int m, int k) {
  return (size_t)((m + QAT_QUAD_TILE_ROWS - 1) / QAT_QUAD_TILE_ROWS) * (size_t)qat_quad_depth(k) * QAT_QUAD_TILE_ROWS;
}

/// Bytes of one B panel packed by `qat_pack_b_panel_u8` for depth k.
static inline size_t qat_packed_quad_panel_count(int k) { return (size_t)qat_quad_depth(k) * QAT_PANEL_COLUMNS; }

/// Instruction levels of the u8 x s8 product (`qat_u8s8_level`), each exact for the values A's
/// packing accepts at that level: portable C and AVX2 (vpmaddubsw) for `a - zero` in [-64, 64],
/// AVX-VNNI and AVX512-VNNI (vpdpbusd) for any `a - zero` in [-128, 127].
#define QAT_U8S8_PORTABLE 0
#define QAT_U8S8_AVX2 1
#define QAT_U8S8_AVX_VNNI 2
#define QAT_U8S8_AVX512_VNNI 3

/// The level the u8 x s8 functions run at: the best this CPU has (checked once at run time),
/// or a lower one forced by `qat_u8s8_set_level`.
int qat_u8s8_level(void);

/// Tests only: makes the u8 x s8 functions run at `level` (QAT_U8S8_*; capped at the best this
/// CPU has; negative: the best again) and returns the level now in effect. Set it before packing
/// A: a packing made at a VNNI level may hold values the lower levels cannot multiply.
int qat_u8s8_set_level(int level);

/// Packs A (m x k, 8-bit, row stride `lda`) minus the zero point of each row as int8 quads
/// `packed[tile][k / 4][QAT_QUAD_TILE_ROWS][4]` (rows past m and k past k zero) and writes each
/// row's sum of `a - zero` into `row_sums[row]`. Returns 1 when every `a - zero` lies in the range
/// the current level's product is exact for (see QAT_U8S8_PORTABLE), the condition for
/// `qat_gemm_panel_u8s8` to be exact, else 0.
int qat_pack_a_quads(const void *a, int is_signed, ptrdiff_t lda, int m, int k, const int32_t *zero,
                     ptrdiff_t zero_stride, int8_t *packed, int32_t *row_sums);

/// Packs columns `panel * 16 ..< panel * 16 + 16` of the uint8 matrix B (k x n, row stride `ldb`)
/// as raw byte quads `packed[k / 4][QAT_PANEL_COLUMNS][4]`; columns past n and k past k are zero.
void qat_pack_b_panel_u8(const uint8_t *b, ptrdiff_t ldb, int k, int n, int panel, uint8_t *packed);

/// `c[row, column] = sum_k a'[row, k] * (b[k, column] - b_zero[column * b_zero_stride])` in int32
/// (wrapping) for A packed by `qat_pack_a_quads` (which must have returned 1) and one B panel
/// packed by `qat_pack_b_panel_u8`, clipped to n columns; C row stride `ldc`.
void qat_gemm_panel_u8s8(const int8_t *packed_a, const int32_t *row_sums, const uint8_t *packed_panel, int m, int k,
                         int n, int panel, const int32_t *b_zero, ptrdiff_t b_zero_stride, int32_t *c,
                         ptrdiff_t ldc);

/// Tests only: nonzero makes the u8 x s8 functions take their portable loops even on AVX2
/// (`qat_u8s8_set_level(QAT_U8S8_PORTABLE)`); zero restores the best level.
void qat_u8s8_set_portable(int portable);

/// One output channel's requantization of int32 accumulators to 8 bits (see `Requantizer`):
/// `bias` is added first with int32 wrap-around; then either the float mode (`fixed_point` 0:
/// `float(acc) * scale` clamped to `[minimum - zero_point, maximum - zero_point]`, NaN to the
/// lower bound, rounded half to even, plus `zero_point`) or TFLite's fixed-point mode (Q31
/// `multiplier`, `shift` positive to the left, then the same clamp and `zero_point`).
typedef struct {
  int fixed_point;
  float scale;
  int32_t multiplier;
  int32_t shift;
  int32_t bias;
  int32_t zero_point, minimum, maximum;
} qat_requantization;

/// Requantizes `count` accumulators of one channel into `output` (int8 when `output_signed` is
/// nonzero, else uint8) with AVX2 (AVX-512 where the CPU has it) and returns 1; returns 0 without writing when it cannot (no
/// AVX2, the portable switch set, `minimum...maximum` outside the output type, or a fixed-point
/// multiplier of INT32_MIN or shift outside [-31, 31]): the caller's scalar path runs then.
int qat_requantize_int8(const int32_t *acc, size_t count, const qat_requantization *r, int output_signed,
                        void *output);

/// 1 when `qat_requantize_int8` and the fused store of `qat_gemm_panel_u8s8_requantized` take
/// parameters `r` for an int8 (`output_signed`) or uint8 output on this CPU, else 0.
int qat_requantize_int8_supported(const qat_requantization *r, int output_signed);

/// `qat_gemm_panel_u8s8` whose results are requantized while in registers: row `row`'s sixteen
/// accumulators of the panel go through `rows[row]` (its bias, multiplier, zero point and range)
/// and are stored as bytes at `out + row * ldo + panel * 16` (clipped to n), no int32 written.
/// Only for parameters `qat_requantize_int8_supported` accepts (AVX2); does nothing otherwise.
/// Below the VNNI levels (portable included) it runs the AVX2 product.
void qat_gemm_panel_u8s8_requantized(const int8_t *packed_a, const int32_t *row_sums, const uint8_t *packed_panel,
                                     int m, int k, int n, int panel, const int32_t *b_zero, ptrdiff_t b_zero_stride,
                                     const qat_requantization *rows, int output_signed, uint8_t *out,
                                     ptrdiff_t ldo);

/// The byte im2col of one 2-D input channel of `in_h * in_w` bytes with geometry `g`, for the
/// output positions (columns) `first_column ..< last_column` of the `out_h * out_w`: `kernel_h *
/// kernel_w` rows `row_stride` bytes apart at `rows`, row `ky * kernel_w + kx` holding at
/// `column - first_column` the input byte under that tap for output position `column`, `padding`
/// outside the image. Writes nothing else. The whole matrix: columns 0 ..< out_h * out_w, row
/// stride out_h * out_w.
void qat_im2col_u8(const uint8_t *channel, uint8_t padding, const qat_depthwise_geometry *g, int first_column,
                   int last_column, uint8_t *rows, ptrdiff_t row_stride);

/// Panel `panel` (columns `16 * panel ..<` of the `out_h * out_w`) of the byte im2col matrix of
/// `channels` consecutive input planes at `planes` (each `in_h * in_w` bytes, geometry `g`,
/// `padding` outside the image), packed as `qat_pack_b_panel_u8` packs it: the same bytes as
/// `qat_im2col_u8` then `qat_pack_b_panel_u8` with k = channels * kernel_h * kernel_w, without the
/// matrix. `packed` holds `qat_packed_quad_panel_count(k)` bytes.
void qat_im2col_panel_u8(const uint8_t *planes, int channels, uint8_t padding, const qat_depthwise_geometry *g,
                         int panel, uint8_t *packed);

/// Nonzero when `qat_im2col_panel_u8` takes its vector path for geometry `g` (AVX-512 F/BW/VL,
/// horizontal stride 1 or 2); zero when it would work byte by byte, and the im2col matrix and
/// `qat_pack_b_panel_u8` are faster.
int qat_im2col_panel_u8_vector(const qat_depthwise_geometry *g);

/// Tests only: nonzero makes `qat_im2col_panel_u8` take its portable loop even on AVX-512.
void qat_im2col_panel_set_portable(int portable);

/// A float Conv's im2col columns for output lines `first_line ..< first_line + lines` of a 2-D
/// plane geometry `g` (`channels` input planes of `in_h * in_w` floats at `x`, 0 outside the
/// image), written straight into the float GEMM's packed right operand with 16-column slivers:
/// k = channels * kernel_h * kernel_w rows in K blocks of `depth_block` (the last one shorter),
/// n = lines * out_w columns; block `p0`'s sliver `s` holds its rows' 16 values one row after the
/// other at `packed + slivers * 16 * p0 + s * 16 * depth` (`slivers` = ceil(n / 16), `depth` the
/// block's rows), columns past n 0. Writes slivers `first_sliver ..< end_sliver` and returns 1;
/// returns 0 (nothing written) without AVX-512 or when `qat_im2col_packed_f32_vector` is 0.
int qat_im2col_packed_f32(const float *x, int channels, const qat_depthwise_geometry *g, int first_line, int lines,
                          int depth_block, int first_sliver, int end_sliver, float *packed);

/// Nonzero when `qat_im2col_packed_f32` runs for geometry `g` (AVX-512 F/BW/VL, horizontal stride 1
/// or 2).
int qat_im2col_packed_f32_vector(const qat_depthwise_geometry *g);

/// Tests only: nonzero makes `qat_im2col_u8` take its portable loops even on AVX2.
void qat_im2col_set_portable(int portable);

/// Tests only: nonzero makes `qat_requantize_int8` return 0 (the caller's scalar path).
void qat_requantize_set_portable(int portable);

/// Tests only: makes `qat_requantize_int8` run at `level` (QAT_U8S8_PORTABLE: return 0;
/// QAT_U8S8_AVX2; QAT_U8S8_AVX512_VNNI: the AVX-512 loop, which needs AVX512F, BW and VL; capped
/// at the best this CPU has; negative: the best again) and returns the level now in effect. The
/// same bytes at every level.
int qat_requantize_set_level(int level);

/// Bytes of scratch the MaxPool functions below need for geometry `g` and elements of
/// `element_size` bytes (any alignment of at least that of a pointer).
size_t qat_maxpool_scratch_bytes(const qat_depthwise_geometry *g, size_t element_size);

/// MaxPool over `planes` consecutive 2-D planes (`in_h * in_w` elements in, `out_h * out_w` out,
/// all written) with the window of `g` (the depthwise geometry read as kernel, strides,
/// dilations and top/left pads; the bottom/right pads are what the last window reaches past the
/// input): the taps inside the image in (ky, kx) order, the first taken, then any later one that
/// is strictly greater (NaN and the sign of zero included); a window with no tap inside gives
/// -infinity. `scratch` holds `qat_maxpool_scratch_bytes(g, 4)` bytes.
void qat_maxpool_f32(const float *x, float *y, int planes, const qat_depthwise_geometry *g, void *scratch);

/// `qat_maxpool_f32` on uint8 (a window with no tap inside gives 0); scratch for element size 1.
void qat_maxpool_u8(const uint8_t *x, uint8_t *y, int planes, const qat_depthwise_geometry *g, void *scratch);

/// `qat_maxpool_f32` on int8 (a window with no tap inside gives -128); scratch for element size 1.
void qat_maxpool_s8(const int8_t *x, int8_t *y, int planes, const qat_depthwise_geometry *g, void *scratch);

/// Tests only: nonzero makes the MaxPool functions take their portable loops even on AVX2.
void qat_maxpool_set_portable(int portable);

/// Rows and columns of the float GEMM's tile (`qat_gemm_float_block`).
#define QAT_FLOAT_TILE_ROWS 6
#define QAT_FLOAT_TILE_COLUMNS 16

/// The float32 GEMM's macro-kernel: C[0 ..< rows, columns of slivers first_sliver ..< end_sliver]
/// += packed A (slivers of QAT_FLOAT_TILE_ROWS rows, each `depth` x 6 column-major, zero-padded)
/// x packed B (slivers of 16 columns, each `depth` x 16 row-major, zero-padded), the columns
/// clipped to `width`; C row stride `ldc`. Every element's sum starts from 0 and takes one fused
/// multiply-add per k, k ascending, and is then added to C, or, when `overwrite`, to
/// `start[row]` (0 when `start` is NULL) without reading C.
void qat_gemm_float_block(int depth, const float *a, int rows, const float *b, int first_sliver, int end_sliver,
                          int width, float *c, ptrdiff_t ldc, int overwrite, const float *start);

/// `qat_gemm_float_block` that then applies a fused Conv epilogue to each stored tile while it is
/// in cache, row r of the block (C row r) with `epilogues[r]` (NULL: none): only for the last K
/// block of a product, when the stored values are final. The operations of
/// `qat_float_epilogue_apply` on the same values, so the same bits as applying it afterwards.
void qat_gemm_float_block_epilogue(int depth, const float *a, int rows, const float *b, int first_sliver,
                                   int end_sliver, int width, float *c, ptrdiff_t ldc, int overwrite,
                                   const float *start, const qat_float_epilogue *epilogues);

/// The paths of `qat_gemm_float_block`, lowest first: all give the same bits.
#define QAT_GEMM_FLOAT_PORTABLE 0
#define QAT_GEMM_FLOAT_AVX2 1
#define QAT_GEMM_FLOAT_AVX512 2

/// Tests only: the highest path `qat_gemm_float_block` may take (QAT_GEMM_FLOAT_AVX512, the
/// default, allows every path the CPU runs; QAT_GEMM_FLOAT_AVX2 keeps an AVX-512 CPU on the AVX2
/// path; QAT_GEMM_FLOAT_PORTABLE forces the portable loop).
void qat_gemm_float_set_level(int level);

/// The path `qat_gemm_float_block` takes now: the highest the CPU runs, capped by
/// `qat_gemm_float_set_level`.
int qat_gemm_float_level(void);

/// Tests only: nonzero is `qat_gemm_float_set_level(QAT_GEMM_FLOAT_PORTABLE)`, zero allows every path.
void qat_gemm_float_set_portable(int portable);

/// Scratch slots per thread of `qat_thread_scratch_f32`.
#define QAT_SCRATCH_SLOTS 6

/// A buffer of at least `count` floats (64-byte aligned, contents undefined) that the calling
/// thread owns in slot `slot` (0 ..< QAT_SCRATCH_SLOTS): kept for the thread's later calls, valid
/// until the thread asks the same slot for more floats or exits. NULL when out of memory.
float *qat_thread_scratch_f32(int slot, size_t count);

/// Runs `body(context, index)` for every index in 0 ..< `iterations` on the calling thread and the
/// pool's persistent worker threads (worker_pool.c), returning when all are done; 1 then. Returns
/// 0 without running anything when the pool is busy with another thread's job (or has no worker
/// threads): the caller runs the loop another way.
int qat_pool_run(int iterations, void (*body)(void *context, int index), void *context);

/// The pool's worker threads (started on first use): the processors minus one.
int qat_pool_workers(void);

#endif
