"""The CPU emulation harness itself: barriers, shuffles, atomics, index
variables, error reporting and argument checking, on small test kernels."""
import ctypes
import hashlib
import os

import numpy as np
import pytest

from knetpy import kernels
from knetpy.backends import emulator
from knetpy.backends.emulator import EmulatedKernel, EmulatorDevice, EmulatorError

SRC = r"""
#include "knet_common.cuh"

extern "C" __global__ void reverse(int n, float* x) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    s[t] = x[t];
    __syncthreads();
    x[t] = s[n - 1 - t];
}

extern "C" __global__ void reverse_nosync(int n, float* x) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    s[t] = x[t];
    x[t] = s[n - 1 - t];
}

extern "C" __global__ void shuffles(int width, const int* x, int* down, int* up, int* xr,
                                    int* idx) {
    int t = threadIdx.x;
    down[t] = __shfl_down_sync(0xffffffffu, x[t], 3, width);
    up[t] = __shfl_up_sync(0xffffffffu, x[t], 2, width);
    xr[t] = __shfl_xor_sync(0xffffffffu, x[t], 5, width);
    idx[t] = __shfl_sync(0xffffffffu, x[t], 1, width);
}

extern "C" __global__ void blocksum(long long n, const double* x, double* y) {
    double v = 0;
    KNET_LOOP(i, n) v += x[i];
    v = knet_block_reduce(v, KnetSum());
    y[blockIdx.x * blockDim.x + threadIdx.x] = v;
}

extern "C" __global__ void histogram(long long n, const int* x, int* counts, double* total) {
    KNET_LOOP(i, n) {
        atomicAdd(&counts[x[i] % 8], 1);
        atomicAdd(total, (double)x[i]);
    }
}

extern "C" __global__ void where_am_i(int* out) {
    long long b = blockIdx.x + (long long)gridDim.x * blockIdx.y;
    long long t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    long long k = 8 * (b * blockDim.x * blockDim.y * blockDim.z + t);
    out[k] = blockIdx.x; out[k + 1] = blockIdx.y; out[k + 2] = threadIdx.x;
    out[k + 3] = threadIdx.y; out[k + 4] = threadIdx.z; out[k + 5] = gridDim.x;
    out[k + 6] = blockDim.y; out[k + 7] = blockDim.z;
}

extern "C" __global__ void deadlock(int* x) {
    if (threadIdx.x == 0) __syncthreads();
    else x[threadIdx.x] = __shfl_down_sync(0xffffffffu, x[threadIdx.x], 1);
}

extern "C" __global__ void early_exit(int* x) {
    if (threadIdx.x >= 40) return;          // exited threads do not block the barrier
    x[threadIdx.x] = 1;
    __syncthreads();
    int v = x[(threadIdx.x + 1) % 40];
    __syncthreads();
    x[threadIdx.x] += v;
}

extern "C" __global__ void typed(float a, double b, int c, long long d, unsigned long long e,
                                 bool f, double* out) {
    out[0] = a; out[1] = b; out[2] = c; out[3] = (double)d; out[4] = (double)e; out[5] = f;
}
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    p = tmp_path_factory.mktemp("emu") / "harness.cu"
    p.write_text(SRC)
    key = "test-harness-" + hashlib.sha256((SRC + emulator._compiler_id()).encode()).hexdigest()[:16]
    # the header is part of the key too: a changed header must rebuild
    key += kernels.digest("unary")[:8]
    return ctypes.CDLL(emulator.compile_source(str(p), key)), key


def kern(lib, name):
    return EmulatedKernel(lib[0], name)


def test_kernel_names_found_after_preprocessing(lib):
    lib[0].knetemu_names.restype = ctypes.c_char_p
    names = lib[0].knetemu_names().decode().split()
    assert names == sorted(["reverse", "reverse_nosync", "shuffles", "blocksum", "histogram",
                            "where_am_i", "deadlock", "early_exit", "typed"])


def test_syncthreads_is_a_barrier(lib):
    x = np.arange(96, dtype=np.float32)
    kern(lib, "reverse")(1, 96, (np.int32(96), x))
    np.testing.assert_array_equal(x, np.arange(96)[::-1])


def test_missing_barrier_is_visible(lib):
    # thread 0 runs first and reads a slot thread 95 has not written yet
    x = np.arange(1, 97, dtype=np.float32)
    kern(lib, "reverse_nosync")(1, 96, (np.int32(96), x))
    assert not np.array_equal(x, np.arange(1, 97)[::-1])


@pytest.mark.parametrize("width", [32, 8])
def test_shuffles_follow_cuda_lane_rules(lib, width):
    n = 64
    x = (np.arange(n, dtype=np.int32) * 7 + 3)
    outs = [np.zeros(n, np.int32) for _ in range(4)]
    kern(lib, "shuffles")(1, n, (np.int32(width), x, *outs))
    lane = np.arange(n) % 32
    seg = lane // width * width + np.arange(n) // 32 * 32     # first lane of the segment
    pos = lane % width
    src_down = np.where(pos + 3 < width, np.arange(n) + 3, np.arange(n))
    src_up = np.where(pos - 2 >= 0, np.arange(n) - 2, np.arange(n))
    src_xor = np.where((pos ^ 5) < width, seg + (pos ^ 5), np.arange(n))
    src_idx = seg + 1
    for out, src in zip(outs, (src_down, src_up, src_xor, src_idx)):
        np.testing.assert_array_equal(out, x[src])


def test_block_reduce_over_several_blocks_and_loop_trips(lib):
    x = np.random.default_rng(0).standard_normal(1000)
    y = np.zeros(3 * 128)
    kern(lib, "blocksum")(3, 128, (np.int64(x.size), x, y))
    stride = 3 * 128
    for b in range(3):
        want = sum(x[b * 128 + t::stride].sum() for t in range(128))
        np.testing.assert_allclose(y[b * 128:(b + 1) * 128], want, rtol=1e-12)


def test_atomics(lib):
    x = np.random.default_rng(1).integers(0, 100, 777).astype(np.int32)
    counts, total = np.zeros(8, np.int32), np.zeros(1)
    kern(lib, "histogram")(5, 64, (np.int64(x.size), x, counts, total))
    np.testing.assert_array_equal(counts, np.bincount(x % 8, minlength=8))
    assert total[0] == x.sum()


def test_index_variables_in_2d_grids_and_3d_blocks(lib):
    grid, block = (3, 2), (4, 2, 4)
    nb, nt = 6, 32
    out = np.full(8 * nb * nt, -1, np.int32)
    kern(lib, "where_am_i")(grid, block, (out,))
    rows = out.reshape(nb, nt, 8)
    for by in range(2):
        for bx in range(3):
            r = rows[bx + 3 * by]
            t = np.arange(nt)
            np.testing.assert_array_equal(r[:, 0], bx)
            np.testing.assert_array_equal(r[:, 1], by)
            np.testing.assert_array_equal(r[:, 2], t % 4)
            np.testing.assert_array_equal(r[:, 3], t // 4 % 2)
            np.testing.assert_array_equal(r[:, 4], t // 8)
            np.testing.assert_array_equal(r[:, 5:], [[3, 2, 4]] * nt)


def test_deadlock_is_reported_not_hung(lib):
    with pytest.raises(EmulatorError, match="deadlock"):
        kern(lib, "deadlock")(1, 32, (np.zeros(32, np.int32),))


def test_exited_threads_release_the_barrier(lib):
    x = np.zeros(64, np.int32)
    kern(lib, "early_exit")(1, 64, (x,))
    np.testing.assert_array_equal(x[:40], 2)
    np.testing.assert_array_equal(x[40:], 0)


def test_shuffle_in_partial_warp_is_an_error(lib):
    x = np.zeros(48, np.int32)
    with pytest.raises(EmulatorError, match="does not exist"):
        kern(lib, "shuffles")(1, 48, (np.int32(32), x, x.copy(), x.copy(), x.copy(), x.copy()))


@pytest.mark.parametrize("block", [0, 2048, (32, 32, 2)])
def test_bad_launch_configuration(lib, block):
    with pytest.raises(EmulatorError, match="invalid launch"):
        kern(lib, "reverse")(1, block, (np.int32(1), np.zeros(1, np.float32)))


def test_scalar_types_pass_through(lib):
    out = np.zeros(6)
    kern(lib, "typed")(1, 32, (np.float32(1.5), np.float64(2.25), np.int32(-3), np.int64(2**40),
                              np.uint64(2**63), np.bool_(True), out))
    np.testing.assert_array_equal(out, [1.5, 2.25, -3, 2**40, 2**63, 1])


@pytest.mark.parametrize("bad, msg", [
    ((np.float64(1.5),), "argument 0 must be a numpy float32"),
    ((1.5,), "argument 0 must be a numpy float32"),
    ((np.float32(1), np.float64(2), np.int32(3), np.int64(4), np.uint64(5), np.bool_(1),
      np.zeros(6, np.float32)), "argument 6 must be a float64 array"),
])
def test_argument_types_are_checked(lib, bad, msg):
    k = kern(lib, "typed")
    args = bad if len(bad) == 7 else bad + (np.float64(2), np.int32(3), np.int64(4),
                                            np.uint64(5), np.bool_(1), np.zeros(6))
    with pytest.raises(EmulatorError, match=msg):
        k(1, 32, args)
    with pytest.raises(EmulatorError, match="expects 7 arguments"):
        k(1, 32, args[:3])


def test_unknown_kernel(lib):
    with pytest.raises(EmulatorError, match="no kernel named"):
        kern(lib, "nope")


def test_compiled_library_is_cached(lib, tmp_path):
    src = tmp_path / "harness.cu"
    src.write_text(SRC)
    so = emulator.compile_source(str(src), lib[1])
    mtime = os.path.getmtime(so)
    assert emulator.compile_source(str(src), lib[1]) == so
    assert os.path.getmtime(so) == mtime


def test_compile_errors_are_reported(tmp_path):
    src = tmp_path / "broken.cu"
    src.write_text('extern "C" __global__ void broken(int* x) { x[0] = undefined_name; }\n')
    with pytest.raises(EmulatorError, match="compiling"):
        emulator.compile_source(str(src), "test-broken-" + os.urandom(6).hex())


def test_device_validates_its_configuration():
    with pytest.raises(ValueError, match="multiple of 32"):
        EmulatorDevice(block=48)
    with pytest.raises(ValueError, match="max_blocks"):
        EmulatorDevice(max_blocks=0)


def test_every_family_builds_and_exports_dtype_suffixed_kernels():
    emulator.prebuild()
    for fam in kernels.families():
        lib = emulator.build(fam)
        names = lib.knetemu_names().decode().split()
        assert names, fam
        assert all("_32" in k or "_64" in k for k in names), fam
        assert {k.replace("_32", "_64") for k in names if "_32" in k} <= set(names), fam
