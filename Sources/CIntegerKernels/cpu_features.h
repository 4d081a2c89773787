// Run-time CPU detection shared by the kernels of this target (not part of its public header):
// every feature is probed once, together, and cached. `__builtin_cpu_supports` reports AVX and
// AVX-512 features only when the operating system saves their registers (XCR0), so a yes here
// means the instructions can run. Every function is 0 off x86.
#ifndef CINTEGERKERNELS_CPU_FEATURES_H
#define CINTEGERKERNELS_CPU_FEATURES_H

/// 1 when the CPU runs AVX2, else 0.
int qat_cpu_has_avx2(void);

/// 1 when the CPU runs AVX2 and FMA (the float kernels' fused multiply-adds), else 0.
int qat_cpu_has_avx2_fma(void);

/// 1 when the CPU runs AVX512F, BW and VL, else 0.
int qat_cpu_has_avx512(void);

/// 1 when the CPU runs AVX-VNNI (the VEX-encoded vpdpbusd on ymm) with AVX2, else 0.
int qat_cpu_has_avx_vnni(void);

/// 1 when the CPU runs AVX512-VNNI (vpdpbusd, vpdpwssd on zmm) with AVX512F, BW and VL, else 0.
int qat_cpu_has_avx512_vnni(void);

#endif
