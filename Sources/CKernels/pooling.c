// Max pooling of one plane in two passes (rows, then columns), in C so that each pass is
// vectorised for AVX-512 / AVX2 / baseline, chosen at load time. Windows are clipped to the image:
// padding never wins a max. A NaN in a window is ignored unless it comes first, as Swift's max does.
#include "CKernels.h"

static inline float larger(float m, float v) { return v > m ? v : m; }

// out[ox] = max over k < kw of row[ox * stride + k] for ox in [a, b): the window is inside the row.
// Loops run over ox inside a loop over k so that they vectorise with a constant stride.
static inline void rows_interior(const float *row, float *out, int a, int b, int kw, int stride) {
    if (stride == 1) {
        for (int ox = a; ox < b; ox++) out[ox] = row[ox];
        for (int k = 1; k < kw; k++) for (int ox = a; ox < b; ox++) out[ox] = larger(out[ox], row[ox + k]);
    } else if (stride == 2) {
        for (int ox = a; ox < b; ox++) out[ox] = row[2 * ox];
        for (int k = 1; k < kw; k++) for (int ox = a; ox < b; ox++) out[ox] = larger(out[ox], row[2 * ox + k]);
    } else {
        for (int ox = a; ox < b; ox++) {
            float m = row[ox * stride];
            for (int k = 1; k < kw; k++) m = larger(m, row[ox * stride + k]);
            out[ox] = m;
        }
    }
}

// The same for columns whose window crosses an edge of the row.
static inline void rows_clipped(const float *row, float *out, int from, int to, int in_w, int kw, int stride, int left) {
    for (int ox = from; ox < to; ox++) {
        const int start = ox * stride - left;
        const int x0 = start < 0 ? 0 : start, x1 = start + kw > in_w ? in_w : start + kw;
        float m = -__builtin_inff();
        for (int i = x0; i < x1; i++) m = larger(m, row[i]);
        out[ox] = m;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void vigil_max_pool_plane(const float *x, float *y, float *rows, int in_h, int in_w, int out_h, int out_w,
                          int kh, int kw, int stride_h, int stride_w, int top, int left) {
    // Output columns whose window lies inside the row: a <= ox < b.
    int a = (left + stride_w - 1) / stride_w;
    if (a > out_w) a = out_w;
    int b = in_w - kw + left < 0 ? 0 : (in_w - kw + left) / stride_w + 1;
    if (b > out_w) b = out_w;
    if (b < a) b = a;
    for (int r = 0; r < in_h; r++) {
        const float *row = x + (size_t)r * in_w;
        float *out = rows + (size_t)r * out_w;
        rows_clipped(row, out, 0, a, in_w, kw, stride_w, left);
        if (b > a) rows_interior(row + (a * stride_w - left), out + a, 0, b - a, kw, stride_w);
        rows_clipped(row, out, b, out_w, in_w, kw, stride_w, left);
    }
    for (int oy = 0; oy < out_h; oy++) {
        const int start = oy * stride_h - top;
        const int y0 = start < 0 ? 0 : start, y1 = start + kh > in_h ? in_h : start + kh;
        float *out = y + (size_t)oy * out_w;
        for (int ox = 0; ox < out_w; ox++) out[ox] = -__builtin_inff();
        for (int r = y0; r < y1; r++) {
            const float *src = rows + (size_t)r * out_w;
            for (int ox = 0; ox < out_w; ox++) out[ox] = larger(out[ox], src[ox]);
        }
    }
}
