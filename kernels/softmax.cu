// softmax.cu: the softmax family and the fused negative log-likelihood over the
// rows of a contiguous (rows, cols) array (the backend moves the axis last).
// One block per row; the row max and sum are block reductions.  A row whose max
// is not finite (all -inf, or inf/nan) is shifted by 0, as in the numpy backend.
//   softmax_T(rows, cols, int algo, x, y)  algo 0 unshifted, 1 shifted, 2 log-softmax
//   logsumexp_T(rows, cols, x, y)          y[r] = log(sum(exp(x[r, :])))
//   nll_rows_T(rows, cols, x, const long long* ans, loss)
//       loss[r] = logsumexp(x[r]) - x[r, ans[r]], 0 where ans[r] < 0
//   nll_grad_T(rows, cols, x, ans, dx)  softmax(x[r]) - onehot(ans[r]), 0 rows where ans < 0
#include "knet_common.cuh"

template <class T> __device__ T knet_row_shift(long long cols, const T* x) {
    T m = -knet_inf<T>();
    for (long long j = threadIdx.x; j < cols; j += blockDim.x) m = knet_max(m, x[j]);
    m = knet_block_reduce(m, KnetMax());
    return (m - m == 0) ? m : T(0);        // finite test that also rejects nan
}

template <class T> __device__ T knet_row_expsum(long long cols, const T* x, T m) {
    T s = 0;
    for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += knet_exp(x[j] - m);
    return knet_block_reduce(s, KnetSum());
}

template <class T>
__device__ void knet_softmax(long long rows, long long cols, int algo, const T* x, T* y) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * cols;
        T* yr = y + r * cols;
        T m = algo == 0 ? T(0) : knet_row_shift(cols, xr);
        T s = knet_row_expsum(cols, xr, m);
        if (algo == 2) {
            T ls = m + knet_log(s);
            for (long long j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = xr[j] - ls;
        } else {
            T inv = T(1) / s;
            for (long long j = threadIdx.x; j < cols; j += blockDim.x)
                yr[j] = knet_exp(xr[j] - m) * inv;
        }
    }
}

template <class T>
__device__ void knet_logsumexp(long long rows, long long cols, const T* x, T* y) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * cols;
        T m = knet_row_shift(cols, xr);
        T s = knet_row_expsum(cols, xr, m);
        if (threadIdx.x == 0) y[r] = knet_log(s) + m;
    }
}

template <class T>
__device__ void knet_nll_rows(long long rows, long long cols, const T* x, const long long* ans,
                              T* loss) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * cols;
        T m = knet_row_shift(cols, xr);
        T s = knet_row_expsum(cols, xr, m);
        if (threadIdx.x == 0) loss[r] = ans[r] < 0 ? T(0) : knet_log(s) + m - xr[ans[r]];
    }
}

template <class T>
__device__ void knet_nll_grad(long long rows, long long cols, const T* x, const long long* ans,
                              T* dx) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * cols;
        T* dr = dx + r * cols;
        T m = knet_row_shift(cols, xr);
        T inv = T(1) / knet_row_expsum(cols, xr, m);
        long long a = ans[r];
        for (long long j = threadIdx.x; j < cols; j += blockDim.x)
            dr[j] = a < 0 ? T(0) : knet_exp(xr[j] - m) * inv - (j == a ? T(1) : T(0));
    }
}

#define KNET_SOFTMAX(BITS, T)                                                                 \
    extern "C" __global__ void softmax_##BITS(long long rows, long long cols, int algo,       \
                                              const T* x, T* y) {                             \
        knet_softmax(rows, cols, algo, x, y);                                                 \
    }                                                                                         \
    extern "C" __global__ void logsumexp_##BITS(long long rows, long long cols, const T* x,   \
                                                T* y) {                                       \
        knet_logsumexp(rows, cols, x, y);                                                     \
    }                                                                                         \
    extern "C" __global__ void nll_rows_##BITS(long long rows, long long cols, const T* x,    \
                                               const long long* ans, T* loss) {               \
        knet_nll_rows(rows, cols, x, ans, loss);                                              \
    }                                                                                         \
    extern "C" __global__ void nll_grad_##BITS(long long rows, long long cols, const T* x,    \
                                               const long long* ans, T* dx) {                 \
        knet_nll_grad(rows, cols, x, ans, dx);                                                \
    }
KNET_BOTH(KNET_SOFTMAX)
