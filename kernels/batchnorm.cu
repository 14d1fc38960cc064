// batchnorm.cu: batch normalization of x viewed as (N, C, L), statistics per channel c.
//   bn_stats_T(N, C, L, x, mean, var)          mean and biased variance (two passes),
//                                              one block per channel
//   bn_fwd_T(N, C, L, x, mean, var, gamma, beta, T eps, y)
//                                              y = (x - mean)/sqrt(var + eps)*gamma + beta
//   bn_bwd_sums_T(N, C, L, dy, x, mean, var, T eps, dgamma, dbeta)
//                                              dbeta = sum dy, dgamma = sum dy*xhat
//   bn_bwd_dx_T(N, C, L, dy, x, mean, var, gamma, dgamma, dbeta, T eps, dx)
//                                              dx = G*(dy - xhat*dgamma/n - dbeta/n), G = gamma/std
#include "knet_common.cuh"

#define KNET_BN_IDX(k) ((k) / L * C * L + c * L + (k) % L)   // k-th element of channel c

template <class T>
__device__ void knet_bn_stats(long long N, long long C, long long L, const T* x, T* mean, T* var) {
    long long n = N * L;
    for (long long c = blockIdx.x; c < C; c += gridDim.x) {
        T s = 0;
        for (long long k = threadIdx.x; k < n; k += blockDim.x) s += x[KNET_BN_IDX(k)];
        T m = knet_block_reduce(s, KnetSum()) / T(n);
        T q = 0;
        for (long long k = threadIdx.x; k < n; k += blockDim.x) {
            T d = x[KNET_BN_IDX(k)] - m;
            q += d * d;
        }
        q = knet_block_reduce(q, KnetSum());
        if (threadIdx.x == 0) { mean[c] = m; var[c] = q / T(n); }
    }
}

template <class T>
__device__ void knet_bn_fwd(long long N, long long C, long long L, const T* x, const T* mean,
                            const T* var, const T* gamma, const T* beta, T eps, T* y) {
    KNET_LOOP(i, N * C * L) {
        long long c = i / L % C;
        y[i] = (x[i] - mean[c]) * knet_rsqrt(var[c] + eps) * gamma[c] + beta[c];
    }
}

template <class T>
__device__ void knet_bn_bwd_sums(long long N, long long C, long long L, const T* dy, const T* x,
                                 const T* mean, const T* var, T eps, T* dgamma, T* dbeta) {
    long long n = N * L;
    for (long long c = blockIdx.x; c < C; c += gridDim.x) {
        T sd = 0, sdx = 0;
        for (long long k = threadIdx.x; k < n; k += blockDim.x) {
            long long i = KNET_BN_IDX(k);
            sd += dy[i];
            sdx += dy[i] * (x[i] - mean[c]);
        }
        sd = knet_block_reduce(sd, KnetSum());
        sdx = knet_block_reduce(sdx, KnetSum());
        if (threadIdx.x == 0) { dbeta[c] = sd; dgamma[c] = sdx * knet_rsqrt(var[c] + eps); }
    }
}

template <class T>
__device__ void knet_bn_bwd_dx(long long N, long long C, long long L, const T* dy, const T* x,
                               const T* mean, const T* var, const T* gamma, const T* dgamma,
                               const T* dbeta, T eps, T* dx) {
    T n = T(N * L);
    KNET_LOOP(i, N * C * L) {
        long long c = i / L % C;
        T inv = knet_rsqrt(var[c] + eps);
        T xhat = (x[i] - mean[c]) * inv;
        dx[i] = gamma[c] * inv * (dy[i] - xhat * dgamma[c] / n - dbeta[c] / n);
    }
}

#define KNET_BN(BITS, T)                                                                      \
    extern "C" __global__ void bn_stats_##BITS(long long N, long long C, long long L,         \
                                               const T* x, T* mean, T* var) {                 \
        knet_bn_stats(N, C, L, x, mean, var);                                                 \
    }                                                                                         \
    extern "C" __global__ void bn_fwd_##BITS(long long N, long long C, long long L,           \
                                             const T* x, const T* mean, const T* var,         \
                                             const T* gamma, const T* beta, T eps, T* y) {    \
        knet_bn_fwd(N, C, L, x, mean, var, gamma, beta, eps, y);                              \
    }                                                                                         \
    extern "C" __global__ void bn_bwd_sums_##BITS(long long N, long long C, long long L,      \
                                                  const T* dy, const T* x, const T* mean,     \
                                                  const T* var, T eps, T* dgamma, T* dbeta) { \
        knet_bn_bwd_sums(N, C, L, dy, x, mean, var, eps, dgamma, dbeta);                      \
    }                                                                                         \
    extern "C" __global__ void bn_bwd_dx_##BITS(long long N, long long C, long long L,        \
                                                const T* dy, const T* x, const T* mean,       \
                                                const T* var, const T* gamma,                 \
                                                const T* dgamma, const T* dbeta, T eps,       \
                                                T* dx) {                                      \
        knet_bn_bwd_dx(N, C, L, dy, x, mean, var, gamma, dgamma, dbeta, eps, dx);             \
    }
KNET_BOTH(KNET_BN)
