// unary.cu: elementwise functions of one array, y[i] = f(x[i]).
// Entry points NAME_32 / NAME_64(long long n, const T* x, T* y) for every unary
// function Knet lists for KnetArray, plus the activations.
#include "knet_common.cuh"

template <class T, class F>
__device__ __forceinline__ void knet_map1(long long n, const T* x, T* y, F f) {
    KNET_LOOP(i, n) y[i] = f(x[i]);
}

#define KNET_UNARY_ENTRY(NAME, BITS, T)                                          \
    extern "C" __global__ void NAME##_##BITS(long long n, const T* x, T* y) {    \
        knet_map1(n, x, y, knet_u_##NAME());                                     \
    }
#define KNET_UNARY(NAME, EXPR)                                                   \
    struct knet_u_##NAME {                                                       \
        template <class T> __device__ T operator()(T x) const { return EXPR; }   \
    };                                                                           \
    KNET_UNARY_ENTRY(NAME, 32, float) KNET_UNARY_ENTRY(NAME, 64, double)

KNET_UNARY(neg, -x)
KNET_UNARY(abs, knet_fabs(x))
KNET_UNARY(abs2, x * x)
KNET_UNARY(acos, knet_acos(x))
KNET_UNARY(acosh, knet_acosh(x))
KNET_UNARY(asin, knet_asin(x))
KNET_UNARY(asinh, knet_asinh(x))
KNET_UNARY(atan, knet_atan(x))
KNET_UNARY(atanh, knet_atanh(x))
KNET_UNARY(cbrt, knet_cbrt(x))
KNET_UNARY(ceil, knet_ceil(x))
KNET_UNARY(cos, knet_cos(x))
KNET_UNARY(cosh, knet_cosh(x))
KNET_UNARY(cospi, knet_cospi(x))
KNET_UNARY(digamma, knet_digamma(x))
KNET_UNARY(erf, knet_erf(x))
KNET_UNARY(erfc, knet_erfc(x))
KNET_UNARY(erfcinv, knet_erfcinv(x))
KNET_UNARY(erfcx, knet_erfcx(x))
KNET_UNARY(erfinv, knet_erfinv(x))
KNET_UNARY(exp, knet_exp(x))
KNET_UNARY(exp10, knet_exp10(x))
KNET_UNARY(exp2, knet_exp2(x))
KNET_UNARY(expm1, knet_expm1(x))
KNET_UNARY(floor, knet_floor(x))
KNET_UNARY(gamma, knet_tgamma(x))
KNET_UNARY(lgamma, knet_lgamma(x))
KNET_UNARY(log, knet_log(x))
KNET_UNARY(log10, knet_log10(x))
KNET_UNARY(log1p, knet_log1p(x))
KNET_UNARY(log2, knet_log2(x))
KNET_UNARY(one, T(1))
KNET_UNARY(round, knet_rint(x))
KNET_UNARY(sign, x > 0 ? T(1) : (x < 0 ? T(-1) : x))
KNET_UNARY(sin, knet_sin(x))
KNET_UNARY(sinh, knet_sinh(x))
KNET_UNARY(sinpi, knet_sinpi(x))
KNET_UNARY(sqrt, knet_sqrt(x))
KNET_UNARY(tan, knet_tan(x))
KNET_UNARY(tanh, knet_tanh(x))
KNET_UNARY(trigamma, knet_trigamma(x))
KNET_UNARY(trunc, knet_trunc(x))
KNET_UNARY(zero, T(0))

// activations
#define KNET_SELU_L 1.0507009873554805
#define KNET_SELU_A 1.6732632423543778
#define KNET_GELU_C 0.7978845608028654   // sqrt(2/pi)
KNET_UNARY(relu, knet_max(x, T(0)))
KNET_UNARY(sigm, knet_sigm(x))
KNET_UNARY(elu, x > 0 ? x : knet_expm1(x))
KNET_UNARY(selu, x > 0 ? T(KNET_SELU_L) * x : T(KNET_SELU_L * KNET_SELU_A) * knet_expm1(x))
KNET_UNARY(gelu, T(0.5) * x * (T(1) + knet_tanh(T(KNET_GELU_C) * (x + T(0.044715) * x * x * x))))
KNET_UNARY(invx, T(1) / x)
