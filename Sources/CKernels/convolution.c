// Direct convolution as an implicit GEMM, for the layers where im2col + SGEMM runs below peak: thin
// ones (a 12 x 18 x 131072 GEMM is too thin for OpenBLAS's blocking and the unfolded copy is nine
// times the input) and mid-sized ones, where OpenBLAS repacks both operands on every call.
//
// The output rows are laid end to end with the padded input's row pitch, so the input of every tap
// is a straight run of floats at a fixed offset (the input is split into stride phases first, so
// stride 2 is straight too). A register tile is 8 filters x 48 positions (24 AVX-512
// accumulators): per tap, three loads of input and eight broadcasts of packed weights feed 24 FMAs.
// The few positions that fall in the padding columns are computed and dropped at the store.
#include "CKernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

int vigil_conv_direct_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

void vigil_conv_pack(const float *weights, float *packed, int filters, int taps, int block) {
    const int blocks = (filters + block - 1) / block;
    for (int b = 0; b < blocks; b++) {
        for (int t = 0; t < taps; t++) {
            for (int f = 0; f < block; f++) {
                int filter = b * block + f;
                packed[((size_t)b * taps + t) * block + f] = filter < filters ? weights[(size_t)filter * taps + t] : 0.0f;
            }
        }
    }
}

// Both column phases of one padded row for stride 2 in a single pass: even[j] and odd[j] are
// padded columns 2j and 2j + 1. The row is first laid out padded in `padded` (2 * phase_w + 32
// floats), so every vector load is a plain one; the permutes split evens from odds.
__attribute__((target("avx512f")))
static void split_columns(const float *line, int width, int pad_left, float *even, float *odd, int phase_w, float *padded) {
    const int span = 2 * phase_w;
    const int copied = pad_left + width > span ? span - pad_left : width;
    for (int k = 0; k < pad_left; k++) padded[k] = 0.0f;
    memcpy(padded + pad_left, line, sizeof(float) * copied);
    for (int k = pad_left + copied; k < span + 32; k++) padded[k] = 0.0f;
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odds = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    for (int j = 0; j < phase_w; j += 16) {
        const __m512 a = _mm512_loadu_ps(padded + 2 * j), b = _mm512_loadu_ps(padded + 2 * j + 16);
        const __mmask16 m = phase_w - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (phase_w - j)) - 1);
        _mm512_mask_storeu_ps(even + j, m, _mm512_permutex2var_ps(a, evens, b));
        _mm512_mask_storeu_ps(odd + j, m, _mm512_permutex2var_ps(a, odds, b));
    }
}

// One phase row for any other column stride: row[j] is padded column j * stride_w + px.
static void strided_columns(const float *line, int width, int pad_left, float *row, int phase_w, int stride, int px) {
    for (int j = 0; j < phase_w; j++) {
        const int sx = j * stride + px - pad_left;
        row[j] = sx >= 0 && sx < width ? line[sx] : 0.0f;
    }
}

__attribute__((target("avx512f")))
void vigil_conv_direct_phases(const float *input, float *phases, const vigil_conv_layout *l, int c0, int c1) {
    const size_t plane = (size_t)l->phase_h * l->phase_w;
    float padded[2 * l->phase_w + 32];
    for (int c = c0; c < c1; c++) {
        const float *src = input + (size_t)c * l->height * l->width;
        for (int py = 0; py < l->stride_h; py++) {
            // The phase planes (py, 0), (py, 1), ... of channel c.
            float *dst = phases + ((size_t)c * l->stride_h + py) * l->stride_w * plane;
            for (int r = 0; r < l->phase_h; r++) {
                const int sy = (l->first_row + r) * l->stride_h + py - l->pad_top;
                if (sy < 0 || sy >= l->height) {
                    for (int px = 0; px < l->stride_w; px++) memset(dst + px * plane + (size_t)r * l->phase_w, 0, sizeof(float) * l->phase_w);
                    continue;
                }
                const float *line = src + (size_t)sy * l->width;
                float *row = dst + (size_t)r * l->phase_w;
                if (l->stride_w == 1) {
                    // Zero-padded copy: pad_left zeros, the row, zeros to the pitch.
                    const int copied = l->pad_left + l->width > l->phase_w ? l->phase_w - l->pad_left : l->width;
                    for (int k = 0; k < l->pad_left; k++) row[k] = 0.0f;
                    memcpy(row + l->pad_left, line, sizeof(float) * copied);
                    for (int k = l->pad_left + copied; k < l->phase_w; k++) row[k] = 0.0f;
                } else if (l->stride_w == 2) {
                    split_columns(line, l->width, l->pad_left, row, row + plane, l->phase_w, padded);
                } else {
                    for (int px = 0; px < l->stride_w; px++) strided_columns(line, l->width, l->pad_left, row + px * plane, l->phase_w, l->stride_w, px);
                }
            }
        }
    }
}

// One register tile: positions q..q+47 of the flattened grid, every tap, 8 filters. Lanes outside
// the masks are neither loaded nor meaningful (the caller stores only the lanes it needs).
__attribute__((target("avx512f"), always_inline))
static inline void tile(const float *input, const int *offsets, const float *w, int taps, size_t q,
                        __mmask16 m0, __mmask16 m1, __mmask16 m2, __m512 acc[VIGIL_CONV_FILTER_BLOCK][3]) {
    enum { F = VIGIL_CONV_FILTER_BLOCK };
    for (int f = 0; f < F; f++) acc[f][0] = acc[f][1] = acc[f][2] = _mm512_setzero_ps();
    for (int t = 0; t < taps; t++, w += F) {
        const float *p = input + offsets[t] + q;
        const __m512 v0 = _mm512_maskz_loadu_ps(m0, p);
        const __m512 v1 = _mm512_maskz_loadu_ps(m1, p + 16);
        const __m512 v2 = _mm512_maskz_loadu_ps(m2, p + 32);
        for (int f = 0; f < F; f++) {
            const __m512 wf = _mm512_set1_ps(w[f]);
            acc[f][0] = _mm512_fmadd_ps(wf, v0, acc[f][0]);
            acc[f][1] = _mm512_fmadd_ps(wf, v1, acc[f][1]);
            acc[f][2] = _mm512_fmadd_ps(wf, v2, acc[f][2]);
        }
    }
}

static inline __mmask16 lanes(int n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

__attribute__((target("avx512f")))
void vigil_conv_direct_rows(const vigil_conv_shape *s, const float *input, const int *offsets, const float *packed,
                            float *output, int block, int oy0, int oy1) {
    enum { F = VIGIL_CONV_FILTER_BLOCK, P = VIGIL_CONV_PIXEL_TILE };
    if (oy0 >= oy1) return;
    const float *wb = packed + (size_t)block * s->taps * F;
    const int valid = s->filters - block * F < F ? s->filters - block * F : F;
    const size_t plane = (size_t)s->out_plane;
    const size_t pitch = (size_t)s->row_pitch;
    float *out = output + (size_t)block * F * plane;
    const size_t begin = (size_t)oy0 * pitch, end = (size_t)(oy1 - 1) * pitch + s->out_w;
    for (size_t q = begin; q < end; q += P) {
        const int left = end - q < (size_t)P ? (int)(end - q) : P;
        __m512 acc[F][3];
        if (left == P) {
            tile(input, offsets, wb, s->taps, q, 0xFFFF, 0xFFFF, 0xFFFF, acc);
        } else {
            tile(input, offsets, wb, s->taps, q, lanes(left), lanes(left - 16), lanes(left - 32), acc);
        }
        if (pitch == (size_t)s->out_w) {
            // No padding columns: position q is output pixel q.
            for (int f = 0; f < valid; f++) {
                float *dst = out + f * plane + q;
                for (int j = 0; j < 3; j++) _mm512_mask_storeu_ps(dst + 16 * j, lanes(left - 16 * j), acc[f][j]);
            }
            continue;
        }
        // Runs of lanes that are output pixels: at most one per row the tile touches.
        int runs = 0, from[P], to[P], length[P];
        size_t oy = q / pitch, ox = q - oy * pitch;
        for (int i = 0; i < left;) {
            if (ox < (size_t)s->out_w) {
                int n = (int)((size_t)s->out_w - ox);
                if (n > left - i) n = left - i;
                from[runs] = i; to[runs] = (int)(oy * s->out_w + ox); length[runs] = n; runs++;
                i += n; ox += n;
            } else {
                i += (int)(pitch - ox); ox = 0; oy++;
            }
        }
        for (int f = 0; f < valid; f++) {
            float spill[P] __attribute__((aligned(64)));
            for (int j = 0; j < 3; j++) _mm512_store_ps(spill + 16 * j, acc[f][j]);
            float *dst = out + f * plane;
            for (int r = 0; r < runs; r++) {
                for (int k = 0; k < length[r]; k += 16) {
                    const __mmask16 m = lanes(length[r] - k);
                    _mm512_mask_storeu_ps(dst + to[r] + k, m, _mm512_maskz_loadu_ps(m, spill + from[r] + k));
                }
            }
        }
    }
}

// Six pixels (their input base pointers) x 16 V filters over taps t0..<t1, into sums[6][64]
// (added to them unless `first`). V is a constant at every call, so each V gets its own code.
__attribute__((target("avx512f"), always_inline))
static inline void wide_tile(const float *const base[6], const int *offsets, const float *w, int t0, int t1, float *sums, int first,
                             const int V) {
    enum { B = VIGIL_CONV_WIDE_BLOCK, N = VIGIL_CONV_WIDE_PIXELS };
    __m512 acc[N][4];
    for (int j = 0; j < N; j++) {
        for (int v = 0; v < V; v++) acc[j][v] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(sums + j * B + 16 * v);
    }
    const float *b0 = base[0], *b1 = base[1], *b2 = base[2], *b3 = base[3], *b4 = base[4], *b5 = base[5];
    for (int t = t0; t < t1; t++) {
        const float *wt = w + (size_t)t * B;
        __m512 wv[4];
        for (int v = 0; v < V; v++) wv[v] = _mm512_loadu_ps(wt + 16 * v);
        const int o = offsets[t];
#define VIGIL_WIDE_PIXEL(j, bj) { const __m512 x = _mm512_set1_ps(bj[o]); \
            for (int v = 0; v < V; v++) acc[j][v] = _mm512_fmadd_ps(wv[v], x, acc[j][v]); }
        VIGIL_WIDE_PIXEL(0, b0) VIGIL_WIDE_PIXEL(1, b1) VIGIL_WIDE_PIXEL(2, b2)
        VIGIL_WIDE_PIXEL(3, b3) VIGIL_WIDE_PIXEL(4, b4) VIGIL_WIDE_PIXEL(5, b5)
#undef VIGIL_WIDE_PIXEL
    }
    for (int j = 0; j < N; j++) {
        for (int v = 0; v < V; v++) _mm512_storeu_ps(sums + j * B + 16 * v, acc[j][v]);
    }
}

__attribute__((target("avx512f")))
static void wide_tile_any(const float *const base[6], const int *offsets, const float *w, int t0, int t1, float *sums, int first, int V) {
    switch (V) {
    case 1: wide_tile(base, offsets, w, t0, t1, sums, first, 1); break;
    case 2: wide_tile(base, offsets, w, t0, t1, sums, first, 2); break;
    case 3: wide_tile(base, offsets, w, t0, t1, sums, first, 3); break;
    default: wide_tile(base, offsets, w, t0, t1, sums, first, 4); break;
    }
}

__attribute__((target("avx512f")))
void vigil_conv_wide_pixels(const vigil_conv_shape *s, const float *input, const int *offsets, const float *packed,
                            float *sums, int block, int p0, int p1) {
    enum { B = VIGIL_CONV_WIDE_BLOCK, N = VIGIL_CONV_WIDE_PIXELS, K = VIGIL_CONV_WIDE_CHUNK };
    const float *w = packed + (size_t)block * s->taps * B;
    // The last block computes only the 16-filter vectors it has filters in.
    const int filters = s->filters - block * B < B ? s->filters - block * B : B;
    const int V = (filters + 15) / 16;
    // Taps in chunks whose weights (K x 64 floats, 32 KB) stay in L1 while every pixel passes.
    for (int t0 = 0; t0 < s->taps; t0 += K) {
        const int t1 = s->taps - t0 < K ? s->taps : t0 + K;
        for (int p = p0; p < p1; p += N) {
            const float *base[N];
            float tail[N * B] __attribute__((aligned(64)));
            const int n = p1 - p < N ? p1 - p : N;
            for (int j = 0; j < N; j++) {
                // A short last tile repeats its last pixel; those sums go to `tail` and are dropped.
                const int pixel = p + (j < n ? j : n - 1);
                const int oy = pixel / s->out_w, ox = pixel - oy * s->out_w;
                base[j] = input + (size_t)oy * s->row_pitch + ox;
            }
            float *dst = sums + (size_t)p * B;
            if (n < N) {
                if (t0 > 0) memcpy(tail, dst, sizeof(float) * n * B);
                wide_tile_any(base, offsets, w, t0, t1, tail, t0 == 0, V);
                memcpy(dst, tail, sizeof(float) * n * B);
            } else {
                wide_tile_any(base, offsets, w, t0, t1, dst, t0 == 0, V);
            }
        }
    }
}

void vigil_conv_wide_unpack(const float *sums, float *output, int plane, int count, int p0, int p1) {
    for (int f = 0; f < count; f++) {
        float *row = output + (size_t)f * plane;
        for (int p = p0; p < p1; p++) row[p] = sums[(size_t)p * VIGIL_CONV_WIDE_BLOCK + f];
    }
}

#else

int vigil_conv_direct_supported(void) { return 0; }
void vigil_conv_wide_unpack(const float *sums, float *output, int plane, int count, int p0, int p1) {
    (void)sums; (void)output; (void)plane; (void)count; (void)p0; (void)p1;
}
void vigil_conv_wide_pixels(const vigil_conv_shape *s, const float *input, const int *offsets, const float *packed,
                            float *sums, int block, int p0, int p1) {
    (void)s; (void)input; (void)offsets; (void)packed; (void)sums; (void)block; (void)p0; (void)p1;
}
void vigil_conv_pack(const float *weights, float *packed, int filters, int taps, int block) {
    (void)weights; (void)packed; (void)filters; (void)taps; (void)block;
}
void vigil_conv_direct_phases(const float *input, float *phases, const vigil_conv_layout *layout, int c0, int c1) {
    (void)input; (void)phases; (void)layout; (void)c0; (void)c1;
}
void vigil_conv_direct_rows(const vigil_conv_shape *s, const float *input, const int *offsets, const float *packed,
                            float *output, int block, int oy0, int oy1) {
    (void)s; (void)input; (void)offsets; (void)packed; (void)output; (void)block; (void)oy0; (void)oy1;
}

#endif
