// Direct convolution for thin layers (few channels over large images), where im2col + SGEMM
// runs far below peak: a 12 x 18 x 131072 GEMM is too thin for OpenBLAS's blocking, and the
// unfolded copy is nine times the input. Each register tile is 8 filters x 48 output pixels
// (24 AVX-512 accumulators); weights are broadcast from a block-packed copy, input rows are read
// straight from a zero-padded copy of the input so no load needs a bounds check.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

int vigil_conv_direct_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

void vigil_conv_direct_pack(const float *weights, float *packed, int filters, int channels, int kh, int kw) {
    const int taps = channels * kh * kw;
    const int blocks = (filters + VIGIL_CONV_FILTER_BLOCK - 1) / VIGIL_CONV_FILTER_BLOCK;
    for (int b = 0; b < blocks; b++) {
        for (int t = 0; t < taps; t++) {
            for (int f = 0; f < VIGIL_CONV_FILTER_BLOCK; f++) {
                int filter = b * VIGIL_CONV_FILTER_BLOCK + f;
                packed[((size_t)b * taps + t) * VIGIL_CONV_FILTER_BLOCK + f] = filter < filters ? weights[(size_t)filter * taps + t] : 0.0f;
            }
        }
    }
}

// 16 output pixels starting at p: consecutive inputs for stride 1, every second for stride 2.
__attribute__((target("avx512f")))
static inline __m512 pixels(const float *p, int stride) {
    if (stride == 1) return _mm512_loadu_ps(p);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
}

__attribute__((target("avx512f")))
void vigil_conv_direct_rows(const vigil_conv_shape *s, const float *input, const float *packed, float *output,
                            int block, int oy0, int oy1) {
    enum { F = VIGIL_CONV_FILTER_BLOCK, P = VIGIL_CONV_PIXEL_TILE };
    const int taps = s->channels * s->kh * s->kw;
    const float *wb = packed + (size_t)block * taps * F;
    const int valid = s->filters - block * F < F ? s->filters - block * F : F;
    const size_t plane = (size_t)s->out_h * s->out_w;
    float *out = output + (size_t)block * F * plane;
    for (int oy = oy0; oy < oy1; oy++) {
        for (int x0 = 0; x0 < s->out_w; x0 += P) {
            __m512 acc[F][3];
            for (int f = 0; f < F; f++) acc[f][0] = acc[f][1] = acc[f][2] = _mm512_setzero_ps();
            const float *w = wb;
            for (int c = 0; c < s->channels; c++) {
                for (int ky = 0; ky < s->kh; ky++) {
                    const float *row = input + ((size_t)c * s->height + (size_t)oy * s->stride + ky) * s->width + (size_t)x0 * s->stride;
                    for (int kx = 0; kx < s->kw; kx++, w += F) {
                        const __m512 v0 = pixels(row + kx, s->stride);
                        const __m512 v1 = pixels(row + kx + 16 * s->stride, s->stride);
                        const __m512 v2 = pixels(row + kx + 32 * s->stride, s->stride);
                        for (int f = 0; f < F; f++) {
                            const __m512 wf = _mm512_set1_ps(w[f]);
                            acc[f][0] = _mm512_fmadd_ps(wf, v0, acc[f][0]);
                            acc[f][1] = _mm512_fmadd_ps(wf, v1, acc[f][1]);
                            acc[f][2] = _mm512_fmadd_ps(wf, v2, acc[f][2]);
                        }
                    }
                }
            }
            for (int f = 0; f < valid; f++) {
                float *dst = out + f * plane + (size_t)oy * s->out_w + x0;
                for (int j = 0; j < 3; j++) {
                    const int left = s->out_w - x0 - 16 * j;
                    if (left <= 0) break;
                    const __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
                    _mm512_mask_storeu_ps(dst + 16 * j, m, acc[f][j]);
                }
            }
        }
    }
}

#else

int vigil_conv_direct_supported(void) { return 0; }
void vigil_conv_direct_pack(const float *weights, float *packed, int filters, int channels, int kh, int kw) {
    (void)weights; (void)packed; (void)filters; (void)channels; (void)kh; (void)kw;
}
void vigil_conv_direct_rows(const vigil_conv_shape *s, const float *input, const float *packed, float *output,
                            int block, int oy0, int oy1) {
    (void)s; (void)input; (void)packed; (void)output; (void)block; (void)oy0; (void)oy1;
}

#endif
