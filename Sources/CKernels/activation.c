// Element-wise epilogues in C so that the compiler emits AVX-512 or AVX2 code chosen at run
// time (target_clones); Swift code here is compiled for baseline x86-64 only.
#include "CKernels.h"

#include <stdint.h>

// e^x by Cephes' expf polynomial, written without libm calls so loops vectorise.
static inline float exp_poly(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    const float magic = 12582912.0f;  // 1.5 * 2^23: rounds to nearest and exposes the integer
    float shifted = x * 1.44269504088896341f + magic;
    float n = shifted - magic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    union { float f; int32_t i; } s = {shifted}, m = {magic}, scale;
    scale.i = ((s.i - m.i) + 127) << 23;
    return y * scale.f;
}

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

__attribute__((target_clones("avx512f", "avx2", "default")))
void vigil_bias_activation(float *p, size_t n, float bias, vigil_activation kind, float a, float b) {
    switch (kind) {
    case VIGIL_ACT_NONE:
        for (size_t i = 0; i < n; i++) p[i] += bias;
        break;
    case VIGIL_ACT_RELU:
        for (size_t i = 0; i < n; i++) { float v = p[i] + bias; p[i] = v < 0 ? 0 : v; }
        break;
    case VIGIL_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) { float v = p[i] + bias; p[i] = v < 0 ? v * a : v; }
        break;
    case VIGIL_ACT_CLIP:
        for (size_t i = 0; i < n; i++) p[i] = clampf(p[i] + bias, a, b);
        break;
    case VIGIL_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) p[i] = 1.0f / (1.0f + exp_poly(-(p[i] + bias)));
        break;
    case VIGIL_ACT_SILU:
        for (size_t i = 0; i < n; i++) { float v = p[i] + bias; p[i] = v / (1.0f + exp_poly(-v)); }
        break;
    case VIGIL_ACT_HARD_SIGMOID:
        for (size_t i = 0; i < n; i++) p[i] = clampf((p[i] + bias) * a + b, 0.0f, 1.0f);
        break;
    case VIGIL_ACT_HARD_SWISH:
        for (size_t i = 0; i < n; i++) { float v = p[i] + bias; p[i] = v * clampf(v * (1.0f / 6.0f) + 0.5f, 0.0f, 1.0f); }
        break;
    }
}
