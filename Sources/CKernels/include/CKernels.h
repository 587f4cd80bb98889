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

/// Max pooling of one plane [in_h][in_w] into y [out_h][out_w], windows kh x kw with strides and
/// leading pads `top`/`left`, clipped to the image; `rows` is in_h x out_w floats of scratch.
void vigil_max_pool_plane(const float *x, float *y, float *rows, int in_h, int in_w, int out_h, int out_w,
                          int kh, int kw, int stride_h, int stride_w, int top, int left);

/// Direct convolution (group 1) as an implicit GEMM: filters in blocks of VIGIL_CONV_FILTER_BLOCK,
/// output pixels in tiles of VIGIL_CONV_PIXEL_TILE taken from the output rows laid end to end.
enum { VIGIL_CONV_FILTER_BLOCK = 8, VIGIL_CONV_PIXEL_TILE = 48 };

/// What the kernel walks. Output pixel (oy, ox) is position q = oy * row_pitch + ox of a flattened
/// grid; tap t of it reads input[offsets[t] + q]. Positions with ox >= out_w are computed and
/// dropped (the columns a padded row has beyond the output), so every load is a straight one.
/// Filter f's output starts out_plane floats after filter f - 1's (the whole image's plane, also
/// when a call covers a band of rows).
typedef struct {
    int taps, filters;
    int row_pitch, out_h, out_w;
    int out_plane;
} vigil_conv_shape;

/// The zero-padded input split into stride phases: channel c, phase (py, px) is a plane of
/// phase_h x phase_w floats at ((c * stride_h + py) * stride_w + px) * phase_h * phase_w, holding
/// padded row (first_row + r) * stride_h + py and column j * stride_w + px at (r, j). A band of
/// output rows starting at oy needs the phase rows from first_row = oy on.
typedef struct {
    int height, width, pad_top, pad_left;
    int stride_h, stride_w, phase_h, phase_w;
    int first_row;
} vigil_conv_layout;

/// Whether this CPU runs the direct kernel (AVX-512F); otherwise the caller keeps im2col + GEMM.
int vigil_conv_direct_supported(void);

/// Weights [filters][taps] into blocks of `block` filters (8 for the pixel tiles, 64 for the filter
/// tiles below), tap-major, zero-filled past `filters`.
void vigil_conv_pack(const float *weights, float *packed, int filters, int taps, int block);

/// Channels c0..<c1 of one image [channels][height][width] into the phase layout above.
void vigil_conv_direct_phases(const float *input, float *phases, const vigil_conv_layout *layout, int c0, int c1);

/// Output rows oy0..<oy1 of filter block `block` into output[filter][out_h][out_w] (no bias, no activation).
void vigil_conv_direct_rows(const vigil_conv_shape *shape, const float *input, const int *offsets, const float *packed,
                            float *output, int block, int oy0, int oy1);

/// Direct convolution for small images (deep layers: 7 x 7 to 20 x 20 pixels, hundreds of
/// filters): filters in the vector lanes, 64 filters x 6 output pixels per register tile, so no lane
/// is spent on padding columns. Positions and tap offsets are those of `vigil_conv_shape`.
enum { VIGIL_CONV_WIDE_BLOCK = 64, VIGIL_CONV_WIDE_PIXELS = 6, VIGIL_CONV_WIDE_CHUNK = 128 };

/// Output pixels p0..<p1 of filter block `block`, summed over every tap, into
/// sums[p][64] (the block's own 64 x out_h x out_w area of scratch, pixel-major).
void vigil_conv_wide_pixels(const vigil_conv_shape *shape, const float *input, const int *offsets, const float *packed,
                            float *sums, int block, int p0, int p1);

/// output[f][p] = sums[p][f] for f < count and p0 <= p < p1: a block's sums into NCHW.
void vigil_conv_wide_unpack(const float *sums, float *output, int plane, int count, int p0, int p1);

/// Keeps freed large blocks in the heap for reuse instead of returning them to the kernel
/// (memory.c); called once at start-up by the commands that analyse scans.
void vigil_keep_freed_memory(void);

#ifdef __cplusplus
}
#endif

#endif
