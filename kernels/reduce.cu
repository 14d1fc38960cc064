// reduce.cu: sum, prod, max and min of float / double arrays.
//   NAME_T_full(long long n, const T* x, T* part)   one partial result per block
//       (part[blockIdx.x]); a second launch of NAME_T_rows with rows=1 over the
//       partials finishes a reduction that needed several blocks.
//   NAME_T_rows(long long rows, long long cols, const T* x, T* y)
//       y[r] = reduce of row r of a contiguous (rows, cols) array; one block per row.
//   NAME_T_mid(long long A, long long R, long long B, const T* x, T* y)
//       y[a, b] = reduce over r of x[a, r, b] for a contiguous (A, R, B) array;
//       one thread per output, reads coalesced along b.
// Block reductions use warp shuffles and one shared-memory slot per warp.
#include "knet_common.cuh"

template <class T, class Op>
__device__ void knet_reduce_full(long long n, const T* x, T* part, Op op) {
    T v = Op::template id<T>();
    KNET_LOOP(i, n) v = op(v, x[i]);
    v = knet_block_reduce(v, op);
    if (threadIdx.x == 0) part[blockIdx.x] = v;
}

template <class T, class Op>
__device__ void knet_reduce_rows(long long rows, long long cols, const T* x, T* y, Op op) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        T v = Op::template id<T>();
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) v = op(v, x[r * cols + j]);
        v = knet_block_reduce(v, op);
        if (threadIdx.x == 0) y[r] = v;
    }
}

template <class T, class Op>
__device__ void knet_reduce_mid(long long A, long long R, long long B, const T* x, T* y, Op op) {
    KNET_LOOP(i, A * B) {
        long long a = i / B, b = i % B;
        const T* p = x + a * R * B + b;
        T v = Op::template id<T>();
        for (long long r = 0; r < R; r++) v = op(v, p[r * B]);
        y[i] = v;
    }
}

#define KNET_REDUCE_ENTRIES(NAME, OP, BITS, T)                                                 \
    extern "C" __global__ void NAME##_##BITS##_full(long long n, const T* x, T* part) {       \
        knet_reduce_full(n, x, part, OP());                                                    \
    }                                                                                          \
    extern "C" __global__ void NAME##_##BITS##_rows(long long rows, long long cols,            \
                                                    const T* x, T* y) {                        \
        knet_reduce_rows(rows, cols, x, y, OP());                                              \
    }                                                                                          \
    extern "C" __global__ void NAME##_##BITS##_mid(long long A, long long R, long long B,      \
                                                   const T* x, T* y) {                         \
        knet_reduce_mid(A, R, B, x, y, OP());                                                  \
    }
#define KNET_REDUCE(NAME, OP) KNET_REDUCE_ENTRIES(NAME, OP, 32, float) \
                              KNET_REDUCE_ENTRIES(NAME, OP, 64, double)

KNET_REDUCE(sum, KnetSum)
KNET_REDUCE(prod, KnetProd)
KNET_REDUCE(max, KnetMax)
KNET_REDUCE(min, KnetMin)
