// conv.cu: im2col / col2im for 2-D and 3-D convolution of (N, C, D, H, W) arrays
// (a 2-D image is D = KD = OD = 1, pd = 0, sd = dd = 1).
// col has shape (N, C*KD*KH*KW, OD*OH*OW): row (c*KD + a)*KH*KW + i*KW + j, column
// (od*OH + oh)*OW + ow holds x[n, c, od*sd - pd + a*dd, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
// (0 outside the input), so a convolution is a matrix product with the (O, C*K)
// weight.  col2im is its adjoint: every input cell sums the col entries that read
// it (a gather, so no atomics and a deterministic result).
//   im2col_T(const long long* geo, const T* x, T* col)
//   col2im_T(const long long* geo, const T* col, T* x)
// geo (device int64[20]): N C D H W  KD KH KW  OD OH OW  pd ph pw  sd sh sw  dd dh dw
#include "knet_common.cuh"

template <class T>
__device__ void knet_im2col(const long long* geo, const T* x, T* col) {
    knet_geo g(geo);
    long long n_out = g.N * g.C * g.K[0] * g.K[1] * g.K[2] * g.O[0] * g.O[1] * g.O[2];
    KNET_LOOP(idx, n_out) {
        long long t = idx, o[3], k[3];
        for (int a = 2; a >= 0; a--) { o[a] = t % g.O[a]; t /= g.O[a]; }
        for (int a = 2; a >= 0; a--) { k[a] = t % g.K[a]; t /= g.K[a]; }
        long long nc = t;                                   // n*C + c
        long long off = nc;
        bool inside = true;
        for (int a = 0; a < 3; a++) {
            long long q = o[a] * g.s[a] - g.p[a] + k[a] * g.d[a];
            inside = inside && q >= 0 && q < g.S[a];
            off = off * g.S[a] + q;
        }
        col[idx] = inside ? x[off] : T(0);
    }
}

template <class T>
__device__ void knet_col2im(const long long* geo, const T* col, T* x) {
    knet_geo g(geo);
    long long K = g.K[0] * g.K[1] * g.K[2], P = g.O[0] * g.O[1] * g.O[2];
    long long n_img = g.N * g.C * g.S[0] * g.S[1] * g.S[2];
    KNET_LOOP(idx, n_img) {
        long long t = idx, q[3];
        for (int a = 2; a >= 0; a--) { q[a] = t % g.S[a]; t /= g.S[a]; }
        const T* cb = col + t * K * P;                      // t = n*C + c: its K rows
        T s = 0;
        for (long long a0 = 0; a0 < g.K[0]; a0++) {
            long long r0 = q[0] + g.p[0] - a0 * g.d[0];      // = o0 * s0
            if (r0 < 0 || r0 % g.s[0] != 0 || r0 / g.s[0] >= g.O[0]) continue;
            for (long long a1 = 0; a1 < g.K[1]; a1++) {
                long long r1 = q[1] + g.p[1] - a1 * g.d[1];
                if (r1 < 0 || r1 % g.s[1] != 0 || r1 / g.s[1] >= g.O[1]) continue;
                for (long long a2 = 0; a2 < g.K[2]; a2++) {
                    long long r2 = q[2] + g.p[2] - a2 * g.d[2];
                    if (r2 < 0 || r2 % g.s[2] != 0 || r2 / g.s[2] >= g.O[2]) continue;
                    long long row = (a0 * g.K[1] + a1) * g.K[2] + a2;
                    long long c = ((r0 / g.s[0]) * g.O[1] + r1 / g.s[1]) * g.O[2] + r2 / g.s[2];
                    s += cb[row * P + c];
                }
            }
        }
        x[idx] = s;
    }
}

#define KNET_CONV(BITS, T)                                                                    \
    extern "C" __global__ void im2col_##BITS(const long long* geo, const T* x, T* col) {      \
        knet_im2col(geo, x, col);                                                             \
    }                                                                                         \
    extern "C" __global__ void col2im_##BITS(const long long* geo, const T* col, T* x) {      \
        knet_col2im(geo, col, x);                                                             \
    }
KNET_BOTH(KNET_CONV)
