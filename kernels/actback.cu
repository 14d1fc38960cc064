// actback.cu: activation gradients, dx[i] = f'(.) * dy[i], from the output y
// (or the input x for gelu).  Entry points NAME_back_32 / _64(long long n,
// const T* dy, const T* y, T* dx).
#include "knet_common.cuh"

#define KNET_SELU_L 1.0507009873554805
#define KNET_SELU_A 1.6732632423543778
#define KNET_GELU_C 0.7978845608028654

template <class T, class F>
__device__ __forceinline__ void knet_map2(long long n, const T* a, const T* b, T* y, F f) {
    KNET_LOOP(i, n) y[i] = f(a[i], b[i]);
}

#define KNET_BACK_ENTRY(NAME, BITS, T)                                                      \
    extern "C" __global__ void NAME##_back_##BITS(long long n, const T* dy, const T* y,     \
                                                  T* dx) {                                  \
        knet_map2(n, dy, y, dx, knet_b_##NAME());                                           \
    }
#define KNET_BACK(NAME, EXPR)                                                               \
    struct knet_b_##NAME {                                                                  \
        template <class T> __device__ T operator()(T dy, T y) const { return EXPR; }        \
    };                                                                                      \
    KNET_BACK_ENTRY(NAME, 32, float) KNET_BACK_ENTRY(NAME, 64, double)

template <class T> __device__ __forceinline__ T knet_gelu_back(T dy, T x) {
    T u = T(KNET_GELU_C) * (x + T(0.044715) * x * x * x);
    T t = knet_tanh(u);
    T du = T(KNET_GELU_C) * (T(1) + T(3 * 0.044715) * x * x);
    return dy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
}

KNET_BACK(relu, y > 0 ? dy : T(0))
KNET_BACK(sigm, dy * y * (T(1) - y))
KNET_BACK(tanh, dy * (T(1) - y * y))
KNET_BACK(elu, y > 0 ? dy : dy * (y + T(1)))
KNET_BACK(selu, y > 0 ? T(KNET_SELU_L) * dy : dy * (y + T(KNET_SELU_L * KNET_SELU_A)))
KNET_BACK(invx, -dy * y * y)
KNET_BACK(gelu, knet_gelu_back(dy, y))
