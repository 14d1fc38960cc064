// pool.cu: 2-D / 3-D max and average pooling of (N, C, D, H, W) arrays, its gradient
// and the second-order gather of max pooling (a 2-D image is D = KD = OD = 1).
// The window of output o covers cells o*s - p .. o*s - p + K - 1 on each axis.
// mode 0 max over the cells inside the input (padding never takes part); NaNs are
// skipped (fmax: a window is NaN only when all its cells are) unless nanprop, where any
// NaN makes the window NaN.
// mode 1 average dividing by the window size (padding counts as 0), mode 2 by the
// cells inside the input.  alpha scales the result.  The max gradient goes to the
// first maximum of the window in row-major window order.
//   pool_T(const long long* geo, int mode, int nanprop, double alpha, const T* x, T* y)
//   poolback_T(geo, mode, nanprop, alpha, const T* x, const T* dy, T* dx)
//   poolgather_T(geo, nanprop, alpha, const T* x, const T* g, T* y)   max mode only
// geo: as knet_geo in knet_common.cuh (dilation 1).
#include "knet_common.cuh"

// Cell a (0..K-1 per axis) of the window of output o: its offset in the plane, or -1
// when it lies in the padding.
__device__ __forceinline__ long long knet_cell(const knet_geo& g, const long long* o,
                                               const long long* a) {
    long long off = 0;
    for (int d = 0; d < 3; d++) {
        long long q = o[d] * g.s[d] - g.p[d] + a[d];
        if (q < 0 || q >= g.S[d]) return -1;
        off = off * g.S[d] + q;
    }
    return off;
}

// The window's maximum (m) over its cells inside the input (padding never takes part)
// and the plane offset of its first maximum; -1 and m = -inf when no cell is inside.
template <class T>
__device__ long long knet_first_max(const knet_geo& g, const long long* o, const T* xp,
                                    int nanprop, T* m_out) {
    long long K = g.K[0] * g.K[1] * g.K[2];
    T m = -knet_inf<T>();
    bool any = false;
    for (long long k = 0; k < K; k++) {
        long long a[3] = {k / (g.K[1] * g.K[2]), (k / g.K[2]) % g.K[1], k % g.K[2]};
        long long off = knet_cell(g, o, a);
        if (off < 0) continue;
        T v = xp[off];
        if (!any) { m = v; any = true; }
        else if (nanprop) m = (v > m || v != v || m != m) ? (m != m ? m : v) : m;
        else m = (v > m || m != m) ? v : m;
    }
    *m_out = m;
    for (long long k = 0; any && k < K; k++) {
        long long a[3] = {k / (g.K[1] * g.K[2]), (k / g.K[2]) % g.K[1], k % g.K[2]};
        long long off = knet_cell(g, o, a);
        if (off < 0) continue;
        T v = xp[off];
        if (v == m || (v != v && m != m)) return off;
    }
    return -1;
}

// Cells of the window of output o inside the input.
__device__ __forceinline__ long long knet_inside(const knet_geo& g, const long long* o) {
    long long c = 1;
    for (int d = 0; d < 3; d++) {
        long long lo = o[d] * g.s[d] - g.p[d], hi = lo + g.K[d];
        c *= knet_min(hi, g.S[d]) - knet_max(lo, 0LL);
    }
    return c;
}

template <class T>
__device__ void knet_pool(const long long* geo, int mode, int nanprop, double alpha, const T* x,
                          T* y) {
    knet_geo g(geo);
    long long P = g.O[0] * g.O[1] * g.O[2], plane = g.S[0] * g.S[1] * g.S[2];
    long long K = g.K[0] * g.K[1] * g.K[2];
    KNET_LOOP(idx, g.N * g.C * P) {
        long long t = idx % P, o[3];
        for (int d = 2; d >= 0; d--) { o[d] = t % g.O[d]; t /= g.O[d]; }
        const T* xp = x + (idx / P) * plane;
        if (mode == 0) {
            T m;
            knet_first_max(g, o, xp, nanprop, &m);
            y[idx] = alpha == 1 ? m : m * T(alpha);
            continue;
        }
        T acc = 0;
        for (long long k = 0; k < K; k++) {
            long long a[3] = {k / (g.K[1] * g.K[2]), (k / g.K[2]) % g.K[1], k % g.K[2]};
            long long off = knet_cell(g, o, a);
            acc += off < 0 ? T(0) : xp[off];
        }
        y[idx] = acc * T(alpha / double(mode == 1 ? K : knet_inside(g, o)));
    }
}

template <class T>
__device__ void knet_poolback(const long long* geo, int mode, int nanprop, double alpha,
                              const T* x, const T* dy, T* dx) {
    knet_geo g(geo);
    long long P = g.O[0] * g.O[1] * g.O[2], plane = g.S[0] * g.S[1] * g.S[2];
    long long K = g.K[0] * g.K[1] * g.K[2];
    KNET_LOOP(idx, g.N * g.C * plane) {
        long long t = idx % plane, q[3], lo[3], hi[3];
        for (int d = 2; d >= 0; d--) { q[d] = t % g.S[d]; t /= g.S[d]; }
        long long base = idx / plane;                      // n*C + c
        const T* xp = x + base * plane;
        for (int d = 0; d < 3; d++) {     // windows holding q: o*s - p <= q <= o*s - p + K - 1
            long long l = q[d] + g.p[d] - g.K[d] + 1;
            lo[d] = l <= 0 ? 0 : (l + g.s[d] - 1) / g.s[d];
            hi[d] = knet_min(g.O[d] - 1, (q[d] + g.p[d]) / g.s[d]);
        }
        long long self = (q[0] * g.S[1] + q[1]) * g.S[2] + q[2];
        T s = 0;
        long long o[3];
        for (o[0] = lo[0]; o[0] <= hi[0]; o[0]++)
            for (o[1] = lo[1]; o[1] <= hi[1]; o[1]++)
                for (o[2] = lo[2]; o[2] <= hi[2]; o[2]++) {
                    long long oi = base * P + (o[0] * g.O[1] + o[1]) * g.O[2] + o[2];
                    if (mode == 0) {
                        T m;
                        if (knet_first_max(g, o, xp, nanprop, &m) == self)
                            s += alpha == 1 ? dy[oi] : dy[oi] * T(alpha);
                    } else {
                        s += dy[oi] * T(alpha / double(mode == 1 ? K : knet_inside(g, o)));
                    }
                }
        dx[idx] = s;
    }
}

template <class T>
__device__ void knet_poolgather(const long long* geo, int nanprop, double alpha, const T* x,
                                const T* gx, T* y) {
    knet_geo g(geo);
    long long P = g.O[0] * g.O[1] * g.O[2], plane = g.S[0] * g.S[1] * g.S[2];
    KNET_LOOP(idx, g.N * g.C * P) {
        long long t = idx % P, o[3];
        for (int d = 2; d >= 0; d--) { o[d] = t % g.O[d]; t /= g.O[d]; }
        long long base = (idx / P) * plane;
        T m;
        long long off = knet_first_max(g, o, x + base, nanprop, &m);
        T v = off < 0 ? T(0) : gx[base + off];
        y[idx] = alpha == 1 ? v : v * T(alpha);
    }
}

#define KNET_POOL(BITS, T)                                                                    \
    extern "C" __global__ void pool_##BITS(const long long* geo, int mode, int nanprop,       \
                                           double alpha, const T* x, T* y) {                  \
        knet_pool(geo, mode, nanprop, alpha, x, y);                                           \
    }                                                                                         \
    extern "C" __global__ void poolback_##BITS(const long long* geo, int mode, int nanprop,   \
                                               double alpha, const T* x, const T* dy, T* dx) {\
        knet_poolback(geo, mode, nanprop, alpha, x, dy, dx);                                  \
    }                                                                                         \
    extern "C" __global__ void poolgather_##BITS(const long long* geo, int nanprop,           \
                                                 double alpha, const T* x, const T* g, T* y) {\
        knet_poolgather(geo, nanprop, alpha, x, g, y);                                        \
    }
KNET_BOTH(KNET_POOL)
