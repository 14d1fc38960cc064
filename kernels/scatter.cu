// scatter.cu: sparse gradient rows added into a dense array on the device.
//   scatter_add_T(long long m, long long width, const long long* rows, const T* vals, T* a)
//     a[rows[k]*width + j] += vals[k*width + j] for k < m, j < width (rows already in
//     [0, len(a))); repeated rows accumulate through atomicAdd (float atomics: the
//     order of the additions, so the last bits of a repeated row, may vary on a GPU).
#include "knet_common.cuh"

template <class T>
__device__ void knet_scatter_add(long long m, long long width, const long long* rows,
                                 const T* vals, T* a) {
    KNET_LOOP(i, m * width) {
        long long k = i / width, j = i % width;
        atomicAdd(a + rows[k] * width + j, vals[i]);
    }
}

#define KNET_SCATTER(BITS, T)                                                                 \
    extern "C" __global__ void scatter_add_##BITS(long long m, long long width,               \
                                                  const long long* rows, const T* vals, T* a) {\
        knet_scatter_add(m, width, rows, vals, a);                                            \
    }
KNET_BOTH(KNET_SCATTER)
