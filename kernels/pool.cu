// pool.cu: 2-D max / average pooling of NCHW images and its gradient.
// mode 0 max (padding never wins), 1 average counting the padding, 2 average
// over the cells inside the image.  Window (oh, ow) covers rows
// oh*sh - ph .. oh*sh - ph + KH - 1 and the matching columns.
//   pool_T(N, C, H, W, OH, OW, KH, KW, ph, pw, sh, sw, mode, const T* x, T* y)
//   poolback_T(..same.., const T* x, const T* y, const T* dy, T* dx)
// The gradient is a gather over the windows that contain each input cell; for max
// pooling it goes to the first cell (row-major) of the window holding the max.
#include "knet_common.cuh"

template <class T>
__device__ void knet_pool(int N, int C, int H, int W, int OH, int OW, int KH, int KW, int ph,
                          int pw, int sh, int sw, int mode, const T* x, T* y) {
    long long n_out = (long long)N * C * OH * OW;
    KNET_LOOP(idx, n_out) {
        int ow = idx % OW, oh = (idx / OW) % OH;
        const T* xp = x + (idx / ((long long)OH * OW)) * H * W;
        int h0 = oh * sh - ph, w0 = ow * sw - pw;
        T acc = mode == 0 ? -knet_inf<T>() : T(0);
        int count = 0;
        for (int h = h0; h < h0 + KH; h++) {
            if (h < 0 || h >= H) continue;
            for (int w = w0; w < w0 + KW; w++) {
                if (w < 0 || w >= W) continue;
                T v = xp[h * W + w];
                acc = mode == 0 ? knet_max(acc, v) : acc + v;
                count++;
            }
        }
        if (mode == 1) acc /= T(KH * KW);
        if (mode == 2) acc /= T(count);
        y[idx] = acc;
    }
}

template <class T>
__device__ void knet_poolback(int N, int C, int H, int W, int OH, int OW, int KH, int KW, int ph,
                              int pw, int sh, int sw, int mode, const T* x, const T* y,
                              const T* dy, T* dx) {
    long long n_in = (long long)N * C * H * W;
    KNET_LOOP(idx, n_in) {
        int w = idx % W, h = (idx / W) % H;
        long long plane = idx / ((long long)H * W);
        const T* xp = x + plane * H * W;
        T s = 0;
        // only the windows whose range contains (h, w): oh*sh - ph <= h <= oh*sh - ph + KH - 1
        int lo_h = h + ph - KH + 1, lo_w = w + pw - KW + 1;
        int oh_lo = lo_h <= 0 ? 0 : (lo_h + sh - 1) / sh, oh_hi = knet_min(OH - 1, (h + ph) / sh);
        int ow_lo = lo_w <= 0 ? 0 : (lo_w + sw - 1) / sw, ow_hi = knet_min(OW - 1, (w + pw) / sw);
        for (int oh = oh_lo; oh <= oh_hi; oh++) {
            int h0 = oh * sh - ph;
            for (int ow = ow_lo; ow <= ow_hi; ow++) {
                int w0 = ow * sw - pw;
                long long o = plane * OH * OW + (long long)oh * OW + ow;
                if (mode == 0) {
                    int first = -1;                      // first in-image cell equal to the max
                    for (int hh = h0; hh < h0 + KH && first < 0; hh++) {
                        if (hh < 0 || hh >= H) continue;
                        for (int ww = w0; ww < w0 + KW; ww++) {
                            if (ww < 0 || ww >= W) continue;
                            if (xp[hh * W + ww] == y[o]) { first = hh * W + ww; break; }
                        }
                    }
                    if (first == h * W + w) s += dy[o];
                } else {
                    int count = KH * KW;
                    if (mode == 2) {
                        int ch = 0, cw = 0;
                        for (int hh = h0; hh < h0 + KH; hh++) ch += hh >= 0 && hh < H;
                        for (int ww = w0; ww < w0 + KW; ww++) cw += ww >= 0 && ww < W;
                        count = ch * cw;
                    }
                    s += dy[o] / T(count);
                }
            }
        }
        dx[idx] = s;
    }
}

#define KNET_POOL(BITS, T)                                                                    \
    extern "C" __global__ void pool_##BITS(int N, int C, int H, int W, int OH, int OW, int KH,\
                                           int KW, int ph, int pw, int sh, int sw, int mode,  \
                                           const T* x, T* y) {                                \
        knet_pool(N, C, H, W, OH, OW, KH, KW, ph, pw, sh, sw, mode, x, y);                    \
    }                                                                                         \
    extern "C" __global__ void poolback_##BITS(int N, int C, int H, int W, int OH, int OW,    \
                                               int KH, int KW, int ph, int pw, int sh,        \
                                               int sw, int mode, const T* x, const T* y,      \
                                               const T* dy, T* dx) {                          \
        knet_poolback(N, C, H, W, OH, OW, KH, KW, ph, pw, sh, sw, mode, x, y, dy, dx);        \
    }
KNET_BOTH(KNET_POOL)
