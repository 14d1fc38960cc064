// binary.cu: elementwise functions of two arrays with numpy broadcasting.
// For each operator NAME and dtype T (32 float, 64 double) there are four entry points:
//   NAME_T_11(long long n, const T* a, const T* b, R* y)  same shape, contiguous
//   NAME_T_01(long long n, T a, const T* b, R* y)          scalar a
//   NAME_T_10(long long n, const T* a, T b, R* y)          scalar b
//   NAME_T_bc(long long n, int ndim, const long long* meta, const T* a, const T* b, R* y)
//     general N-D: y is contiguous with shape meta[0:ndim]; a and b are read at
//     element strides meta[ndim:2ndim] and meta[2ndim:3ndim] (0 on broadcast axes).
// R is T for arithmetic and bool for comparisons.  copy_T(n, ndim, meta, x, y)
// gathers a strided array into contiguous y (meta = shape, strides).
#include "knet_common.cuh"

// Offset of output element i in an array with the given element strides.
__device__ __forceinline__ long long knet_offset(long long i, int ndim, const long long* shape,
                                                 const long long* stride) {
    long long off = 0;
    for (int d = ndim - 1; d >= 0; d--) {
        long long s = shape[d];
        off += (i % s) * stride[d];
        i /= s;
    }
    return off;
}

template <class T, class R, class F>
__device__ __forceinline__ void knet_bin11(long long n, const T* a, const T* b, R* y, F f) {
    KNET_LOOP(i, n) y[i] = f(a[i], b[i]);
}
template <class T, class R, class F>
__device__ __forceinline__ void knet_bin01(long long n, T a, const T* b, R* y, F f) {
    KNET_LOOP(i, n) y[i] = f(a, b[i]);
}
template <class T, class R, class F>
__device__ __forceinline__ void knet_bin10(long long n, const T* a, T b, R* y, F f) {
    KNET_LOOP(i, n) y[i] = f(a[i], b);
}
template <class T, class R, class F>
__device__ __forceinline__ void knet_binbc(long long n, int ndim, const long long* meta,
                                           const T* a, const T* b, R* y, F f) {
    KNET_LOOP(i, n) {
        y[i] = f(a[knet_offset(i, ndim, meta, meta + ndim)],
                 b[knet_offset(i, ndim, meta, meta + 2 * ndim)]);
    }
}

#define KNET_BIN_ENTRIES(NAME, BITS, T, R)                                                    \
    extern "C" __global__ void NAME##_##BITS##_11(long long n, const T* a, const T* b, R* y) {\
        knet_bin11(n, a, b, y, knet_o_##NAME());                                              \
    }                                                                                         \
    extern "C" __global__ void NAME##_##BITS##_01(long long n, T a, const T* b, R* y) {       \
        knet_bin01(n, a, b, y, knet_o_##NAME());                                              \
    }                                                                                         \
    extern "C" __global__ void NAME##_##BITS##_10(long long n, const T* a, T b, R* y) {       \
        knet_bin10(n, a, b, y, knet_o_##NAME());                                              \
    }                                                                                         \
    extern "C" __global__ void NAME##_##BITS##_bc(long long n, int ndim, const long long* meta,\
                                                  const T* a, const T* b, R* y) {             \
        knet_binbc(n, ndim, meta, a, b, y, knet_o_##NAME());                                  \
    }
#define KNET_OPSTRUCT(NAME, EXPR)                                                             \
    struct knet_o_##NAME {                                                                    \
        template <class T> __device__ auto operator()(T a, T b) const { return EXPR; }        \
    };
#define KNET_BINARY(NAME, EXPR)                                                               \
    KNET_OPSTRUCT(NAME, EXPR)                                                                 \
    KNET_BIN_ENTRIES(NAME, 32, float, float) KNET_BIN_ENTRIES(NAME, 64, double, double)
#define KNET_COMPARE(NAME, EXPR)                                                              \
    KNET_OPSTRUCT(NAME, EXPR)                                                                 \
    KNET_BIN_ENTRIES(NAME, 32, float, bool) KNET_BIN_ENTRIES(NAME, 64, double, bool)

// numpy's remainder: the result has the sign of the divisor.
template <class T> __device__ __forceinline__ T knet_mod(T a, T b) {
    T r = knet_fmod(a, b);
    if (r != 0) {
        if ((r < 0) != (b < 0)) r += b;
    } else {
        r = knet_copysign(T(0), b);
    }
    return r;
}

KNET_BINARY(add, a + b)
KNET_BINARY(sub, a - b)
KNET_BINARY(mul, a * b)
KNET_BINARY(div, a / b)
KNET_BINARY(pow, knet_pow(a, b))
KNET_BINARY(max, knet_max(a, b))
KNET_BINARY(min, knet_min(a, b))
KNET_BINARY(atan2, knet_atan2(a, b))
KNET_BINARY(hypot, knet_hypot(a, b))
KNET_BINARY(mod, knet_mod(a, b))
KNET_COMPARE(lt, a < b)
KNET_COMPARE(le, a <= b)
KNET_COMPARE(gt, a > b)
KNET_COMPARE(ge, a >= b)
KNET_COMPARE(eq, a == b)
KNET_COMPARE(ne, a != b)

template <class T>
__device__ __forceinline__ void knet_copy(long long n, int ndim, const long long* meta,
                                          const T* x, T* y) {
    KNET_LOOP(i, n) y[i] = x[knet_offset(i, ndim, meta, meta + ndim)];
}
#define KNET_COPY(BITS, T)                                                                    \
    extern "C" __global__ void copy_##BITS(long long n, int ndim, const long long* meta,      \
                                           const T* x, T* y) {                                \
        knet_copy(n, ndim, meta, x, y);                                                       \
    }
KNET_BOTH(KNET_COPY)
