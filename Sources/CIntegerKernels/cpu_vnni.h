// Run-time detection of AVX-512 and of the dot-product instructions (VNNI: vpdpbusd, u8 x s8
// four-product sums into int32; vpdpwssd, int16 pair sums), shared by the kernels of this target
// (not part of its public header).
#ifndef CINTEGERKERNELS_CPU_VNNI_H
#define CINTEGERKERNELS_CPU_VNNI_H

/// 1 when the CPU runs AVX-VNNI (the VEX-encoded vpdpbusd on ymm, with AVX2; checked once), else
/// 0; always 0 off x86.
int qat_cpu_has_avx_vnni(void);

/// 1 when the CPU runs AVX512-VNNI on zmm with AVX512F, BW and VL (checked once), else 0; always 0
/// off x86.
int qat_cpu_has_avx512_vnni(void);

/// 1 when the CPU runs AVX512F, BW and VL (checked once), else 0; always 0 off x86.
int qat_cpu_has_avx512(void);

#endif
