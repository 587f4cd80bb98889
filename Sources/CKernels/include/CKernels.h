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

#ifdef __cplusplus
}
#endif

#endif
