// conv.cu: im2col / col2im for 2-D convolution of NCHW images.
// col has shape (N, C*KH*KW, OH*OW): row (c*KH + i)*KW + j, column oh*OW + ow holds
// x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (0 outside the image), so a
// convolution is a matrix product with the (O, C*KH*KW) weight.  col2im is its
// adjoint: every image pixel sums the col entries that read it (a gather, so no
// atomics and a deterministic result).
//   im2col_T(N, C, H, W, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, const T* x, T* col)
//   col2im_T(N, C, H, W, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, const T* col, T* x)
#include "knet_common.cuh"

template <class T>
__device__ void knet_im2col(int N, int C, int H, int W, int KH, int KW, int OH, int OW,
                            int ph, int pw, int sh, int sw, int dh, int dw, const T* x, T* col) {
    long long n_out = (long long)N * C * KH * KW * OH * OW;
    KNET_LOOP(idx, n_out) {
        long long t = idx;
        int ow = t % OW; t /= OW;
        int oh = t % OH; t /= OH;
        int j = t % KW; t /= KW;
        int i = t % KH; t /= KH;
        int c = t % C;
        long long n = t / C;
        int h = oh * sh - ph + i * dh, w = ow * sw - pw + j * dw;
        col[idx] = (h >= 0 && h < H && w >= 0 && w < W) ? x[((n * C + c) * H + h) * W + w] : T(0);
    }
}

template <class T>
__device__ void knet_col2im(int N, int C, int H, int W, int KH, int KW, int OH, int OW,
                            int ph, int pw, int sh, int sw, int dh, int dw, const T* col, T* x) {
    long long n_img = (long long)N * C * H * W;
    KNET_LOOP(idx, n_img) {
        long long t = idx;
        int w = t % W; t /= W;
        int h = t % H; t /= H;
        int c = t % C;
        long long n = t / C;
        T s = 0;
        for (int i = 0; i < KH; i++) {
            int hh = h + ph - i * dh;                    // = oh * sh
            if (hh < 0 || hh % sh != 0 || hh / sh >= OH) continue;
            int oh = hh / sh;
            for (int j = 0; j < KW; j++) {
                int ww = w + pw - j * dw;
                if (ww < 0 || ww % sw != 0 || ww / sw >= OW) continue;
                long long row = ((long long)c * KH + i) * KW + j;
                s += col[((n * C * KH * KW + row) * OH + oh) * OW + ww / sw];
            }
        }
        x[idx] = s;
    }
}

#define KNET_CONV(BITS, T)                                                                    \
    extern "C" __global__ void im2col_##BITS(int N, int C, int H, int W, int KH, int KW,      \
                                             int OH, int OW, int ph, int pw, int sh, int sw,  \
                                             int dh, int dw, const T* x, T* col) {            \
        knet_im2col(N, C, H, W, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, x, col);              \
    }                                                                                         \
    extern "C" __global__ void col2im_##BITS(int N, int C, int H, int W, int KH, int KW,      \
                                             int OH, int OW, int ph, int pw, int sh, int sw,  \
                                             int dh, int dw, const T* col, T* x) {            \
        knet_col2im(N, C, H, W, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, col, x);              \
    }
KNET_BOTH(KNET_CONV)
