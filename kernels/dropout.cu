// dropout.cu: inverted dropout with a counter-based mask, so the backward pass
// regenerates the mask from (seed, index) instead of storing it.
// Element i is dropped when knet_uniform(seed, i) < p; kept ones are scaled by 1/(1-p).
//   dropout_T(long long n, const T* x, T* y, double p, unsigned long long seed)
//   dropback_T(long long n, const T* dy, T* dx, double p, unsigned long long seed)
#include "knet_common.cuh"

template <class T>
__device__ void knet_dropout(long long n, const T* x, T* y, double p, unsigned long long seed) {
    T scale = T(1.0 / (1.0 - p));
    KNET_LOOP(i, n) y[i] = knet_uniform(seed, i) < p ? T(0) : x[i] * scale;
}

#define KNET_DROPOUT(BITS, T)                                                                 \
    extern "C" __global__ void dropout_##BITS(long long n, const T* x, T* y, double p,        \
                                              unsigned long long seed) {                      \
        knet_dropout(n, x, y, p, seed);                                                       \
    }                                                                                         \
    extern "C" __global__ void dropback_##BITS(long long n, const T* dy, T* dx, double p,     \
                                               unsigned long long seed) {                     \
        knet_dropout(n, dy, dx, p, seed);                                                     \
    }
KNET_BOTH(KNET_DROPOUT)
