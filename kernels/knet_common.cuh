// knet_common.cuh: shared pieces of the knetpy CUDA kernels.
//
// Grid-stride loops, float/double overloads of the math functions (CUDA's
// f-suffixed names for float), special functions CUDA lacks (digamma,
// trigamma), warp-shuffle + shared-memory block reductions, a counter-based
// random hash, and the macros that stamp out the _32 (float) and _64
// (double) extern "C" entry points of a templated kernel.
#pragma once

#define KNET_PI 3.14159265358979323846

// i runs over [0, n) with a stride of the whole grid.
#define KNET_LOOP(i, n)                                                    \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;   \
         i < (long long)(n); i += (long long)blockDim.x * gridDim.x)

// Float and double overloads: knet_sin(float) calls sinf, knet_sin(double) sin.
#define KNET_MATH1(name)                                                            \
    __device__ __forceinline__ float knet_##name(float x) { return name##f(x); }  \
    __device__ __forceinline__ double knet_##name(double x) { return name(x); }
KNET_MATH1(sin) KNET_MATH1(cos) KNET_MATH1(tan) KNET_MATH1(asin) KNET_MATH1(acos)
KNET_MATH1(atan) KNET_MATH1(sinh) KNET_MATH1(cosh) KNET_MATH1(tanh) KNET_MATH1(asinh)
KNET_MATH1(acosh) KNET_MATH1(atanh) KNET_MATH1(exp) KNET_MATH1(exp2) KNET_MATH1(exp10)
KNET_MATH1(expm1) KNET_MATH1(log) KNET_MATH1(log2) KNET_MATH1(log10) KNET_MATH1(log1p)
KNET_MATH1(sqrt) KNET_MATH1(rsqrt) KNET_MATH1(cbrt) KNET_MATH1(ceil) KNET_MATH1(floor)
KNET_MATH1(trunc) KNET_MATH1(rint) KNET_MATH1(fabs) KNET_MATH1(erf) KNET_MATH1(erfc)
KNET_MATH1(erfinv) KNET_MATH1(erfcinv) KNET_MATH1(erfcx) KNET_MATH1(lgamma)
KNET_MATH1(tgamma) KNET_MATH1(sinpi) KNET_MATH1(cospi)

#define KNET_MATH2(name)                                                                      \
    __device__ __forceinline__ float knet_##name(float a, float b) { return name##f(a, b); } \
    __device__ __forceinline__ double knet_##name(double a, double b) { return name(a, b); }
KNET_MATH2(pow) KNET_MATH2(atan2) KNET_MATH2(hypot) KNET_MATH2(fmod) KNET_MATH2(copysign)

template <class T> __device__ __forceinline__ T knet_inf();
template <> __device__ __forceinline__ float knet_inf<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double knet_inf<double>() {
    return __longlong_as_double(0x7ff0000000000000LL);
}
template <class T> __device__ __forceinline__ T knet_nan();
template <> __device__ __forceinline__ float knet_nan<float>() { return __int_as_float(0x7fc00000); }
template <> __device__ __forceinline__ double knet_nan<double>() {
    return __longlong_as_double(0x7ff8000000000000LL);
}

// numpy's maximum/minimum: a NaN in either argument wins.
template <class T> __device__ __forceinline__ T knet_max(T a, T b) {
    return (a > b || a != a) ? a : b;
}
template <class T> __device__ __forceinline__ T knet_min(T a, T b) {
    return (a < b || a != a) ? a : b;
}

// Overflow-free logistic sigmoid.
template <class T> __device__ __forceinline__ T knet_sigm(T x) {
    T e = knet_exp(-knet_fabs(x));
    return x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// digamma: reflection below 0, recurrence up to 10, then the asymptotic series.
template <class T> __device__ T knet_digamma(T x) {
    if (x != x) return x;
    T r = 0;
    if (x <= 0) {
        if (x == knet_floor(x)) return knet_nan<T>();     // pole
        r = -T(KNET_PI) * knet_cospi(x) / knet_sinpi(x);
        x = 1 - x;
    }
    while (x < 10) { r -= T(1) / x; x += 1; }
    T f = T(1) / (x * x);
    T t = f * (T(-1.0 / 12) + f * (T(1.0 / 120) + f * (T(-1.0 / 252) + f * (T(1.0 / 240) +
          f * (T(-1.0 / 132) + f * (T(691.0 / 32760) + f * T(-1.0 / 12)))))));
    return r + knet_log(x) - T(0.5) / x + t;
}

// trigamma: reflection below 0, recurrence up to 10, then the asymptotic series.
template <class T> __device__ T knet_trigamma(T x) {
    if (x != x) return x;
    T r = 0, sgn = 1;
    if (x <= 0) {
        if (x == knet_floor(x)) return knet_nan<T>();     // pole
        T s = knet_sinpi(x);
        r = T(KNET_PI * KNET_PI) / (s * s);
        sgn = -1;
        x = 1 - x;
    }
    T acc = 0;
    while (x < 10) { acc += T(1) / (x * x); x += 1; }
    T f = T(1) / (x * x);
    T t = T(1) / x + f / 2 + f / x * (T(1.0 / 6) + f * (T(-1.0 / 30) + f * (T(1.0 / 42) +
          f * (T(-1.0 / 30) + f * (T(5.0 / 66) + f * (T(-691.0 / 2730) + f * T(7.0 / 6)))))));
    return r + sgn * (acc + t);
}

// ---- reductions: an operator knows its identity and how to combine.
struct KnetSum {
    template <class T> __device__ static T id() { return T(0); }
    template <class T> __device__ T operator()(T a, T b) const { return a + b; }
};
struct KnetProd {
    template <class T> __device__ static T id() { return T(1); }
    template <class T> __device__ T operator()(T a, T b) const { return a * b; }
};
struct KnetMax {
    template <class T> __device__ static T id() { return -knet_inf<T>(); }
    template <class T> __device__ T operator()(T a, T b) const { return knet_max(a, b); }
};
struct KnetMin {
    template <class T> __device__ static T id() { return knet_inf<T>(); }
    template <class T> __device__ T operator()(T a, T b) const { return knet_min(a, b); }
};

template <class T, class Op> __device__ __forceinline__ T knet_warp_reduce(T v, Op op) {
    for (int d = 16; d > 0; d >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, d));
    return v;
}

// Reduce v over the block; every thread gets the result.  blockDim.x must be a
// multiple of 32 and every thread of the block must call it.
template <class T, class Op> __device__ T knet_block_reduce(T v, Op op) {
    __shared__ T part[33];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = knet_warp_reduce(v, op);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int nwarps = blockDim.x >> 5;
        v = lane < nwarps ? part[lane] : Op::template id<T>();
        v = knet_warp_reduce(v, op);
        if (lane == 0) part[32] = v;
    }
    __syncthreads();
    v = part[32];
    __syncthreads();      // part may be reused by the next call
    return v;
}

// ---- counter-based random numbers: uniform in [0, 1) from (seed, index).
__device__ __forceinline__ unsigned long long knet_mix64(unsigned long long z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
__device__ __forceinline__ double knet_uniform(unsigned long long seed, long long i) {
    return (double)(knet_mix64(seed ^ knet_mix64((unsigned long long)i)) >> 11) *
           (1.0 / 9007199254740992.0);
}

// Geometry of a 2-D or 3-D window op (conv.cu, pool.cu) read from a device int64
// table: N C D H W  KD KH KW  OD OH OW  pd ph pw  sd sh sw  dd dh dw (2-D: D = 1).
struct knet_geo {
    long long N, C, S[3], K[3], O[3], p[3], s[3], d[3];
    __device__ explicit knet_geo(const long long* g) {
        N = g[0]; C = g[1];
        for (int a = 0; a < 3; a++) {
            S[a] = g[2 + a]; K[a] = g[5 + a]; O[a] = g[8 + a];
            p[a] = g[11 + a]; s[a] = g[14 + a]; d[a] = g[17 + a];
        }
    }
};

// KNET_BOTH(M) expands M(32, float) and M(64, double): one entry point per dtype.
#define KNET_BOTH(M) M(32, float) M(64, double)
