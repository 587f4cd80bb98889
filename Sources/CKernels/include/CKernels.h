#ifndef VIGIL_CKERNELS_H
#define VIGIL_CKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Activations a convolution epilogue applies (values match Swift's Activation cases).
typedef enum {
    VIGIL_ACT_NONE = 0,
    VIGIL_ACT_RELU = 1,
    VIGIL_ACT_LEAKY_RELU = 2,    ///< a = alpha
    VIGIL_ACT_CLIP = 3,          ///< a = min, b = max
    VIGIL_ACT_SIGMOID = 4,
    VIGIL_ACT_SILU = 5,
    VIGIL_ACT_HARD_SIGMOID = 6,  ///< a = alpha, b = beta
    VIGIL_ACT_HARD_SWISH = 7,
} vigil_activation;

/// p[i] = act(p[i] + bias) for i < n. Compiled for AVX-512, AVX2 and baseline x86-64; the
/// loader picks the widest the CPU has (function multi-versioning).
void vigil_bias_activation(float *p, size_t n, float bias, vigil_activation kind, float a, float b);

/// p[i] = -ln(max(p[i], min_t)), bit for bit as Swift's VectorMath.log gives it; AVX-512, AVX2
/// or baseline as the CPU allows. Log attenuation of whole scans runs here.
void vigil_negative_log(float *p, size_t n, float min_t);

/// Direct convolution (group 1, dilation 1, stride 1 or 2) for thin layers: filters in blocks of
/// VIGIL_CONV_FILTER_BLOCK, output pixels in tiles of VIGIL_CONV_PIXEL_TILE.
enum { VIGIL_CONV_FILTER_BLOCK = 8, VIGIL_CONV_PIXEL_TILE = 48 };

/// The input as the kernel reads it: `channels` planes of `height` rows of `width` floats, already
/// zero-padded (and wide enough that a whole pixel tile of the last column block is in bounds).
typedef struct {
    int channels, height, width;
    int filters, kh, kw, stride;
    int out_h, out_w;
} vigil_conv_shape;

/// Whether this CPU runs the direct kernel (AVX-512F); otherwise the caller keeps im2col + GEMM.
int vigil_conv_direct_supported(void);

/// Weights [filters][channels][kh][kw] into blocks of 8 filters, tap-major, zero-filled past `filters`.
void vigil_conv_direct_pack(const float *weights, float *packed, int filters, int channels, int kh, int kw);

/// Output rows oy0..<oy1 of filter block `block` into output[filter][out_h][out_w] (no bias, no activation).
void vigil_conv_direct_rows(const vigil_conv_shape *shape, const float *input, const float *packed, float *output,
                            int block, int oy0, int oy1);

#ifdef __cplusplus
}
#endif

#endif
