// The byte path of the 8-bit depthwise plane kernel (depthwise_int8_vnni.c), private to this
// target: called by `qat_depthwise_plane_int8` (depthwise_int8.c) at level
// QAT_DEPTHWISE_INT8_VNNI_BYTES.
#ifndef CINTEGERKERNELS_DEPTHWISE_INT8_VNNI_H
#define CINTEGERKERNELS_DEPTHWISE_INT8_VNNI_H

#include "CIntegerKernels.h"

#include <stdint.h>

/// The plane `y` (`out_h * out_w` int32, all written) from the bytes `x` (int8 when `x_signed`,
/// else uint8) and the zero-point corrected weights `weights` (`kernel_h * kernel_w` values
/// `w - w_zero`) with AVX512-VNNI vpdpbusd on the bytes themselves, when the geometry and the
/// operands allow it: stride_w 1 or 2, dilation_w 1, kernel_w at most 16, `x_zero` a value of
/// x's type and every weight in [-128, 127]. Returns 1 when it wrote `y`, 0 (nothing written)
/// otherwise. `groups` is scratch for `kernel_h * kernel_w` values.
/// The caller checks that the CPU runs AVX512-VNNI (with AVX512F, BW and VL).
int qat_depthwise_plane_int8_vnni_bytes(const void *x, int x_signed, int32_t x_zero, const int32_t *weights,
                                        int32_t *y, const qat_depthwise_geometry *g, int32_t *groups);

#endif
