// cuda_emul.h: run CUDA C kernels on the CPU (the knetpy kernel emulator).
//
// The kernel sources of kernels/*.cu are compiled by the host C++ compiler
// with this header force-included.  It provides the CUDA built-ins they use:
// the qualifiers, dim3 and the index variables, __syncthreads, the warp
// shuffles, atomics and the math functions the host library lacks.
//
// Execution model: a launch runs its blocks one after another.  Every CUDA
// thread of a block is a fiber (ucontext) with its own stack, all on the
// calling OS thread.  A fiber runs until it reaches a barrier
// (__syncthreads, or a warp shuffle / __syncwarp for its warp) or returns;
// the scheduler then releases a barrier once every live thread of its scope
// has arrived.  Because fibers run one at a time in thread order, a missing
// barrier shows up deterministically: thread 0 runs ahead and reads what the
// others have not written yet.  __shared__ is `static`, so one copy is
// shared by the threads of the (single) running block.  Barrier deadlocks,
// shuffles naming absent or exited lanes and bad launch shapes are reported
// as errors instead of hanging.
#pragma once
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#include <ucontext.h>

struct dim3 {
    unsigned int x, y, z;
    dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __shared__ static
#define __constant__ static
#define __launch_bounds__(...)
#define __restrict__ __restrict

namespace knetemu {

enum State { READY, AT_BLOCK, AT_WARP, DONE };

struct Fiber {
    ucontext_t ctx;
    dim3 tid;
    unsigned linear;
    State state;
    unsigned long long slot;   // value offered to a warp shuffle
    unsigned mask;             // the shuffle's member mask
};

struct Sched {
    ucontext_t main;
    std::vector<Fiber> fibers;
    std::vector<char*> stacks;
    Fiber* cur = nullptr;
    dim3 grid, block, bidx;
    void (*body)(void*) = nullptr;
    void* body_arg = nullptr;
    std::string error;
};

inline thread_local Sched sched;
inline thread_local std::string last_error;
constexpr size_t STACK = 256 * 1024;

inline void fail(const std::string& msg) {
    if (sched.error.empty()) sched.error = msg;
}

inline void yield(State s) {
    Fiber* f = sched.cur;
    f->state = s;
    swapcontext(&f->ctx, &sched.main);
}

inline void entry() {
    sched.body(sched.body_arg);
    sched.cur->state = DONE;      // uc_link returns to the scheduler
}

// Release every barrier that all live threads of its scope have reached;
// false when nothing could be released (a deadlock unless all are done).
inline bool release(unsigned nthreads) {
    bool any = false;
    for (unsigned w = 0; w * 32 < nthreads; w++) {
        unsigned lo = w * 32, hi = lo + 32 < nthreads ? lo + 32 : nthreads;
        unsigned live = 0, waiting = 0;
        for (unsigned t = lo; t < hi; t++) {
            live += sched.fibers[t].state != DONE;
            waiting += sched.fibers[t].state == AT_WARP;
        }
        if (waiting && waiting == live) {
            for (unsigned t = lo; t < hi; t++)
                if (sched.fibers[t].state == AT_WARP) sched.fibers[t].state = READY;
            any = true;
        }
    }
    if (any) return true;
    unsigned live = 0, waiting = 0;
    for (auto& f : sched.fibers) {
        live += f.state != DONE;
        waiting += f.state == AT_BLOCK;
    }
    if (waiting && waiting == live) {
        for (auto& f : sched.fibers)
            if (f.state == AT_BLOCK) f.state = READY;
        return true;
    }
    return false;
}

inline void run_block(unsigned nthreads) {
    for (unsigned t = 0; t < nthreads; t++) {
        Fiber& f = sched.fibers[t];
        f.linear = t;
        f.tid = dim3(t % sched.block.x, (t / sched.block.x) % sched.block.y,
                     t / (sched.block.x * sched.block.y));
        f.state = READY;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = sched.stacks[t];
        f.ctx.uc_stack.ss_size = STACK;
        f.ctx.uc_link = &sched.main;
        makecontext(&f.ctx, entry, 0);
    }
    for (;;) {
        for (unsigned t = 0; t < nthreads && sched.error.empty(); t++) {
            Fiber& f = sched.fibers[t];
            while (f.state == READY) {
                sched.cur = &f;
                swapcontext(&sched.main, &f.ctx);
            }
        }
        if (!sched.error.empty()) return;
        bool done = true;
        for (unsigned t = 0; t < nthreads; t++) done &= sched.fibers[t].state == DONE;
        if (done) return;
        if (!release(nthreads)) {
            fail("deadlock: threads wait at barriers that the other live threads of the "
                 "block never reach (divergent __syncthreads or shuffle)");
            return;
        }
    }
}

inline int run(const unsigned* g, const unsigned* b, void (*body)(void*), void* arg) {
    sched.error.clear();
    last_error.clear();
    unsigned long long nthreads = (unsigned long long)b[0] * b[1] * b[2];
    if (nthreads == 0 || nthreads > 1024 || b[2] > 64 ||
        (unsigned long long)g[0] * g[1] * g[2] == 0 || g[1] > 65535 || g[2] > 65535) {
        last_error = "invalid launch configuration: grid (" + std::to_string(g[0]) + "," +
                     std::to_string(g[1]) + "," + std::to_string(g[2]) + ") block (" +
                     std::to_string(b[0]) + "," + std::to_string(b[1]) + "," +
                     std::to_string(b[2]) + ")";
        return 1;
    }
    sched.fibers.resize(nthreads);
    while (sched.stacks.size() < nthreads) sched.stacks.push_back((char*)std::malloc(STACK));
    sched.grid = dim3(g[0], g[1], g[2]);
    sched.block = dim3(b[0], b[1], b[2]);
    sched.body = body;
    sched.body_arg = arg;
    for (unsigned z = 0; z < g[2]; z++)
        for (unsigned y = 0; y < g[1]; y++)
            for (unsigned x = 0; x < g[0]; x++) {
                sched.bidx = dim3(x, y, z);
                run_block((unsigned)nthreads);
                if (!sched.error.empty()) {
                    last_error = sched.error + " (block " + std::to_string(x) + "," +
                                 std::to_string(y) + "," + std::to_string(z) + ")";
                    return 1;
                }
            }
    return 0;
}

// ---- warp-level exchange: every lane of the mask offers a value, waits for
// the others, reads, and waits again so that no slot is overwritten early.
inline unsigned lane() { return sched.cur->linear & 31u; }

inline void check_mask(unsigned mask) {
    unsigned nthreads = sched.block.x * sched.block.y * sched.block.z;
    unsigned base = sched.cur->linear & ~31u;
    for (unsigned l = 0; l < 32; l++) {
        if (!(mask >> l & 1u)) continue;
        if (base + l >= nthreads) {
            fail("warp operation: mask names lane " + std::to_string(l) +
                 " which does not exist (block size not a multiple of 32?)");
            return;
        }
        if (sched.fibers[base + l].state == DONE) {
            fail("warp operation: mask names lane " + std::to_string(l) + " which has exited");
            return;
        }
    }
    if (!(mask >> lane() & 1u)) fail("warp operation: calling lane is not in the mask");
}

template <class T>
T exchange(unsigned mask, T v, int src_lane) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
    Fiber* f = sched.cur;
    std::memcpy(&f->slot, &v, sizeof(T));
    f->mask = mask;
    yield(AT_WARP);
    check_mask(mask);
    T r = v;
    unsigned base = f->linear & ~31u;
    if (src_lane >= 0 && src_lane < 32 && (mask >> src_lane & 1u)) {
        std::memcpy(&r, &sched.fibers[base + src_lane].slot, sizeof(T));
    }
    yield(AT_WARP);
    return r;
}

}  // namespace knetemu

#define threadIdx (knetemu::sched.cur->tid)
#define blockIdx (knetemu::sched.bidx)
#define blockDim (knetemu::sched.block)
#define gridDim (knetemu::sched.grid)
#define warpSize 32

inline void __syncthreads() { knetemu::yield(knetemu::AT_BLOCK); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
    knetemu::yield(knetemu::AT_WARP);
    knetemu::check_mask(mask);
}

// Shuffles: a source lane outside the caller's width-segment returns the
// caller's own value, as on the GPU.
template <class T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    int l = (int)knetemu::lane();
    int seg = l & ~(width - 1);
    return knetemu::exchange(mask, v, seg + (src & (width - 1)));
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    int l = (int)knetemu::lane();
    int inseg = (l & (width - 1)) + (int)delta;
    return knetemu::exchange(mask, v, inseg < width ? l + (int)delta : l);
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    int l = (int)knetemu::lane();
    int inseg = (l & (width - 1)) - (int)delta;
    return knetemu::exchange(mask, v, inseg >= 0 ? l - (int)delta : l);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lanemask, int width = 32) {
    int l = (int)knetemu::lane();
    int src = l ^ lanemask;
    return knetemu::exchange(mask, v, (src & ~(width - 1)) == (l & ~(width - 1)) ? src : l);
}

// Atomics: fibers never preempt each other, so plain read-modify-write is atomic.
template <class T>
T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
template <class T>
T atomicMax(T* p, T v) { T old = *p; if (v > old) *p = v; return old; }
template <class T>
T atomicMin(T* p, T v) { T old = *p; if (v < old) *p = v; return old; }
template <class T>
T atomicExch(T* p, T v) { T old = *p; *p = v; return old; }
template <class T>
T atomicCAS(T* p, T cmp, T v) { T old = *p; if (old == cmp) *p = v; return old; }

// ---- bit casts and math functions that CUDA has and the host library lacks.
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
inline long long __double_as_longlong(double d) { long long i; std::memcpy(&i, &d, 8); return i; }

inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float rsqrtf(float x) { return (float)(1.0 / std::sqrt((double)x)); }

inline double sinpi(double x) {
    if (!std::isfinite(x)) return NAN;
    double r = std::remainder(x, 2.0);              // in [-1, 1], exact
    if (r == 0 || std::fabs(r) == 1) return std::copysign(0.0, x);
    if (std::fabs(r) == 0.5) return r > 0 ? 1.0 : -1.0;
    return std::sin(M_PI * r);
}
inline double cospi(double x) {
    if (!std::isfinite(x)) return NAN;
    double r = std::fabs(std::remainder(x, 2.0));   // in [0, 1]
    if (r == 0.5) return 0.0;
    if (r == 0) return 1.0;
    if (r == 1) return -1.0;
    return std::cos(M_PI * r);
}
inline float sinpif(float x) { return (float)sinpi(x); }
inline float cospif(float x) { return (float)cospi(x); }

namespace knetemu {
// Giles' single-precision inverse-erf approximation as a function of
// w = -log((1-x)(1+x)), refined by Newton steps by the callers.
inline double giles(double w, double x) {
    double p;
    if (w < 6.25) {
        w -= 3.125;
        p = -3.6444120640178196996e-21; p = -1.685059138182016589e-19 + p * w;
        p = 1.2858480715256400167e-18 + p * w; p = 1.115787767802518096e-17 + p * w;
        p = -1.333171662854620906e-16 + p * w; p = 2.0972767875968561637e-17 + p * w;
        p = 6.6376381343583238325e-15 + p * w; p = -4.0545662729752068639e-14 + p * w;
        p = -8.1519341976054721522e-14 + p * w; p = 2.6335093153082322977e-12 + p * w;
        p = -1.2975133253453532498e-11 + p * w; p = -5.4154120542946279317e-11 + p * w;
        p = 1.051212273321532285e-09 + p * w; p = -4.1126339803469836976e-09 + p * w;
        p = -2.9070369957882005086e-08 + p * w; p = 4.2347877827932403518e-07 + p * w;
        p = -1.3654692000834678645e-06 + p * w; p = -1.3882523362786468719e-05 + p * w;
        p = 0.0001867342080340571352 + p * w; p = -0.00074070253416626697512 + p * w;
        p = -0.0060336708714301490533 + p * w; p = 0.24015818242558961693 + p * w;
        p = 1.6536545626831027356 + p * w;
    } else if (w < 16.0) {
        w = std::sqrt(w) - 3.25;
        p = 2.2137376921775787049e-09; p = 9.0756561938885390979e-08 + p * w;
        p = -2.7517406297064545428e-07 + p * w; p = 1.8239629214389227755e-08 + p * w;
        p = 1.5027403968909827627e-06 + p * w; p = -4.013867526981545969e-06 + p * w;
        p = 2.9234449089955446044e-06 + p * w; p = 1.2475304481671778723e-05 + p * w;
        p = -4.7318229009055733981e-05 + p * w; p = 6.8284851459573175448e-05 + p * w;
        p = 2.4031110387097893999e-05 + p * w; p = -0.0003550375203628474796 + p * w;
        p = 0.00095328937973738049703 + p * w; p = -0.0016882755560235047313 + p * w;
        p = 0.0024914420961078508066 + p * w; p = -0.0037512085075692412107 + p * w;
        p = 0.005370914553590063617 + p * w; p = 1.0052589676941592334 + p * w;
        p = 3.0838856104922207635 + p * w;
    } else {
        w = std::sqrt(w) - 5.0;
        p = -2.7109920616438573243e-11; p = -2.5556418169965252055e-10 + p * w;
        p = 1.5076572693500548083e-09 + p * w; p = -3.7894654401267369937e-09 + p * w;
        p = 7.6157012080783393804e-09 + p * w; p = -1.4960026627149240478e-08 + p * w;
        p = 2.9147953450901080826e-08 + p * w; p = -6.7711997758452339498e-08 + p * w;
        p = 2.2900482228026654717e-07 + p * w; p = -9.9298272942317002539e-07 + p * w;
        p = 4.5260625972231537039e-06 + p * w; p = -1.9681778105531670567e-05 + p * w;
        p = 7.5995277030017761139e-05 + p * w; p = -0.00021503011930044477347 + p * w;
        p = -0.00013871931833623122026 + p * w; p = 1.0103004648645343977 + p * w;
        p = 4.8499064014085844221 + p * w;
    }
    return p * x;
}
}  // namespace knetemu

inline double erfinv(double x) {
    if (std::isnan(x) || x < -1 || x > 1) return NAN;
    if (x == 1) return INFINITY;
    if (x == -1) return -INFINITY;
    double r = knetemu::giles(-std::log((1 - x) * (1 + x)), x);
    for (int i = 0; i < 2; i++)                      // Newton on erf
        r -= (std::erf(r) - x) / (M_2_SQRTPI * std::exp(-r * r));
    return r;
}
inline double erfcinv(double y) {
    if (std::isnan(y) || y < 0 || y > 2) return NAN;
    if (y == 0) return INFINITY;
    if (y == 2) return -INFINITY;
    double r = knetemu::giles(-std::log(y * (2 - y)), 1 - y);
    for (int i = 0; i < 3; i++)                      // Newton on erfc: relative accuracy for small y
        r += (std::erfc(r) - y) / (M_2_SQRTPI * std::exp(-r * r));
    return r;
}
inline double erfcx(double x) {
    if (std::isnan(x)) return x;
    if (x < 26) return std::exp(x * x) * std::erfc(x);
    double u = 1 / (x * x);                          // asymptotic series
    return (1 - u / 2 * (1 - 1.5 * u * (1 - 2.5 * u))) / (x * std::sqrt(M_PI));
}
inline float erfinvf(float x) { return (float)erfinv(x); }
inline float erfcinvf(float x) { return (float)erfcinv(x); }
inline float erfcxf(float x) { return (float)erfcx(x); }
#ifndef __GLIBC__   // glibc has them as GNU extensions
inline double exp10(double x) { return std::pow(10.0, x); }
inline float exp10f(float x) { return (float)std::pow(10.0, (double)x); }
#endif

namespace knetemu {
// Type codes of kernel parameters, checked by the Python launcher.
template <class T> struct code;
template <> struct code<float> { static constexpr char c = 'f'; };
template <> struct code<double> { static constexpr char c = 'd'; };
template <> struct code<int> { static constexpr char c = 'i'; };
template <> struct code<unsigned> { static constexpr char c = 'u'; };
template <> struct code<long long> { static constexpr char c = 'q'; };
template <> struct code<unsigned long long> { static constexpr char c = 'x'; };
template <> struct code<bool> { static constexpr char c = 'b'; };
template <class T> struct code<T*> {
    static constexpr char c = (char)(code<std::remove_cv_t<T>>::c - 'a' + 'A');
};

template <class... A>
struct Kernel {
    void (*f)(A...);
    void** args;
    template <size_t... I>
    void invoke(std::index_sequence<I...>) {
        f(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(args[I])...);
    }
    static void body(void* self) {
        static_cast<Kernel*>(self)->invoke(std::index_sequence_for<A...>{});
    }
};

template <class... A>
int launch(void (*f)(A...), const unsigned* g, const unsigned* b, void** args) {
    Kernel<A...> k{f, args};
    return run(g, b, &Kernel<A...>::body, &k);
}

template <class... A>
const char* signature(void (*)(A...)) {
    static const char s[] = {code<std::remove_cv_t<A>>::c..., '\0'};
    return s;
}
}  // namespace knetemu

extern "C" const char* knetemu_error() { return knetemu::last_error.c_str(); }
