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

// -ln(max(x, min_t)), lane for lane the same operations as Swift's VectorMath.log (Cephes' logf
// polynomial), so both give the same bits; contraction into FMA is off for that reason.
__attribute__((target_clones("avx512f", "avx2", "default")))
void vigil_negative_log(float *p, size_t n, float min_t) {
#pragma clang fp contract(off)
    const float least_normal = 1.17549435e-38f;
    for (size_t i = 0; i < n; i++) {
        float x = p[i] < min_t ? min_t : p[i];
        x = x < least_normal ? least_normal : x;
        union { float f; uint32_t u; } b = {x}, mb;
        float e = (float)((int32_t)(b.u >> 23) - 126);
        mb.u = (b.u & 0x007FFFFFu) | 0x3F000000u;
        float m = mb.f;
        int small = m < 0.707106781186547524f;
        e = small ? e - 1.0f : e;
        m = small ? m + m - 1.0f : m - 1.0f;
        float z = m * m;
        float y = 7.0376836292e-2f;
        y = y * m + -1.1514610310e-1f;
        y = y * m + 1.1676998740e-1f;
        y = y * m + -1.2420140846e-1f;
        y = y * m + 1.4249322787e-1f;
        y = y * m + -1.6668057665e-1f;
        y = y * m + 2.0000714765e-1f;
        y = y * m + -2.4999993993e-1f;
        y = y * m + 3.3333331174e-1f;
        y = y * m * z;
        y += e * -2.12194440e-4f;
        y -= z * 0.5f;
        p[i] = -(m + y + e * 0.693359375f);
    }
}
