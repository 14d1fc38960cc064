"""The one list of knetpy's elementwise kernels: names, formulas, constants.

Every elementwise kernel family (``unary``, ``binary``, ``actback``) is
declared here once, and everything else is derived from it:

* the CUDA sources ``kernels/unary.cu``, ``kernels/binary.cu`` and
  ``kernels/actback.cu`` are *generated* from these tables by
  ``render(family)`` and committed; ``tests/test_kernel_table.py`` fails when
  a committed file differs from ``render`` (regenerate with
  ``python -m knetpy.backends.kernel_table``).  Committed files (rather than
  text made at build time) keep the emulator, CuPy and packaging reading plain
  ``.cu`` files, and the generated source stays reviewable;
* the Python lookup tables of the kernel backend (``UNARY``, ``BINARY``,
  ``ACTIVATION_BACK``) and the numpy formulas of the activations
  (``ACTIVATIONS``, ``ACTIVATION_GRADS``) used by the numpy backend.

A new activation is therefore one ``Act(...)`` line (plus one ``Back(...)``
line for its gradient kernel).  The SELU/GELU constants live in ``CONSTANTS``
only (emitted as ``#define KNET_<NAME>`` into the sources).

>>> UNARY["arccos"], BINARY["less"]
('acos', ('lt', True))
>>> sorted(ACTIVATION_BACK)[:3]
['elu', 'gelu', 'invx']
"""
from collections import namedtuple
import math
import os

import numpy as np

__all__ = ["CONSTANTS", "SELU_LAMBDA", "SELU_ALPHA", "GELU_C", "FUNCS", "ACTS", "OPS", "BACKS",
           "BITS", "UNARY", "BINARY", "ACTIVATION_BACK", "ACTIVATIONS", "ACTIVATION_GRADS", "render",
           "write", "GENERATED"]

CONSTANTS = {"SELU_L": 1.0507009873554805, "SELU_A": 1.6732632423543778,
             "GELU_C": math.sqrt(2 / math.pi), "GELU_K": 0.044715}
SELU_LAMBDA, SELU_ALPHA, GELU_C, GELU_K = (CONSTANTS[k] for k in
                                           ("SELU_L", "SELU_A", "GELU_C", "GELU_K"))

# kernel name, C++ expression of x (T is the element type), other names it answers to
Func = namedtuple("Func", "kernel expr aliases")
# activation: kernel, C++ expression, numpy formula, other names
Act = namedtuple("Act", "kernel expr numpy aliases")
# binary op: kernel, C++ expression of a and b, result is bool, numpy names
Op = namedtuple("Op", "kernel expr compare aliases")
# activation gradient: activation, what it reads besides dy ("y" output, "x" input),
# C++ expression of dy and v, numpy formula of (dy, v)
Back = namedtuple("Back", "act reads expr numpy")

FUNCS = [
    Func("neg", "-x", ("negative",)), Func("abs", "knet_fabs(x)", ("absolute", "fabs")),
    Func("abs2", "x * x", ("square",)), Func("acos", "knet_acos(x)", ("arccos",)),
    Func("acosh", "knet_acosh(x)", ("arccosh",)), Func("asin", "knet_asin(x)", ("arcsin",)),
    Func("asinh", "knet_asinh(x)", ("arcsinh",)), Func("atan", "knet_atan(x)", ("arctan",)),
    Func("atanh", "knet_atanh(x)", ("arctanh",)), Func("cbrt", "knet_cbrt(x)", ()),
    Func("ceil", "knet_ceil(x)", ()), Func("cos", "knet_cos(x)", ()),
    Func("cosh", "knet_cosh(x)", ()), Func("cospi", "knet_cospi(x)", ()),
    Func("digamma", "knet_digamma(x)", ("psi",)), Func("erf", "knet_erf(x)", ()),
    Func("erfc", "knet_erfc(x)", ()), Func("erfcinv", "knet_erfcinv(x)", ()),
    Func("erfcx", "knet_erfcx(x)", ()), Func("erfinv", "knet_erfinv(x)", ()),
    Func("exp", "knet_exp(x)", ()), Func("exp10", "knet_exp10(x)", ()),
    Func("exp2", "knet_exp2(x)", ()), Func("expm1", "knet_expm1(x)", ()),
    Func("floor", "knet_floor(x)", ()), Func("gamma", "knet_tgamma(x)", ()),
    Func("lgamma", "knet_lgamma(x)", ("gammaln", "loggamma")), Func("log", "knet_log(x)", ()),
    Func("log10", "knet_log10(x)", ()), Func("log1p", "knet_log1p(x)", ()),
    Func("log2", "knet_log2(x)", ()), Func("one", "T(1)", ()),
    Func("round", "knet_rint(x)", ("rint",)),
    Func("sign", "x > 0 ? T(1) : (x < 0 ? T(-1) : x)", ()), Func("sin", "knet_sin(x)", ()),
    Func("sinh", "knet_sinh(x)", ()), Func("sinpi", "knet_sinpi(x)", ()),
    Func("sqrt", "knet_sqrt(x)", ()), Func("tan", "knet_tan(x)", ()),
    Func("tanh", "knet_tanh(x)", ()), Func("trigamma", "knet_trigamma(x)", ()),
    Func("trunc", "knet_trunc(x)", ()), Func("zero", "T(0)", ()),
]


def _sigm(x):
    e = np.exp(-np.abs(x))          # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(GELU_C * (x + GELU_K * x * x * x)))


def _gelu_back(dy, x):
    t = np.tanh(GELU_C * (x + GELU_K * x * x * x))
    du = GELU_C * (1 + 3 * GELU_K * x * x)
    return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)


ACTS = [
    Act("relu", "knet_max(x, T(0))", lambda x: np.maximum(x, 0), ()),
    Act("sigm", "knet_sigm(x)", _sigm, ()),
    Act("elu", "x > 0 ? x : knet_expm1(x)",
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))), ()),
    Act("selu", "x > 0 ? T(KNET_SELU_L) * x : T(KNET_SELU_L * KNET_SELU_A) * knet_expm1(x)",
        lambda x: SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))), ()),
    Act("gelu", "T(0.5) * x * (T(1) + knet_tanh(T(KNET_GELU_C) * (x + T(KNET_GELU_K) * x * x * x)))",
        _gelu, ()),
    Act("invx", "T(1) / x", lambda x: 1 / x, ("reciprocal",)),
]

BACKS = [
    Back("relu", "y", "y > 0 ? dy : T(0)", lambda dy, y: np.where(y > 0, dy, 0)),
    Back("sigm", "y", "dy * y * (T(1) - y)", lambda dy, y: dy * y * (1 - y)),
    Back("tanh", "y", "dy * (T(1) - y * y)", lambda dy, y: dy * (1 - y * y)),
    Back("elu", "y", "y > 0 ? dy : dy * (y + T(1))",
         lambda dy, y: np.where(y > 0, dy, dy * (y + 1))),
    Back("selu", "y", "y > 0 ? T(KNET_SELU_L) * dy : dy * (y + T(KNET_SELU_L * KNET_SELU_A))",
         lambda dy, y: np.where(y > 0, SELU_LAMBDA * dy, dy * (y + SELU_LAMBDA * SELU_ALPHA))),
    Back("invx", "y", "-dy * y * y", lambda dy, y: -dy * y * y),
    Back("gelu", "x", "knet_gelu_back(dy, y)", _gelu_back),
]

OPS = [
    Op("add", "a + b", False, ("add",)), Op("sub", "a - b", False, ("subtract",)),
    Op("mul", "a * b", False, ("multiply",)), Op("div", "a / b", False, ("divide", "true_divide")),
    Op("pow", "knet_pow(a, b)", False, ("power",)),
    Op("max", "knet_max(a, b)", False, ("maximum",)),
    Op("min", "knet_min(a, b)", False, ("minimum",)),
    Op("atan2", "knet_atan2(a, b)", False, ("arctan2",)),
    Op("hypot", "knet_hypot(a, b)", False, ("hypot",)),
    Op("mod", "knet_mod(a, b)", False, ("remainder", "mod")),
    Op("lt", "a < b", True, ("less",)), Op("le", "a <= b", True, ("less_equal",)),
    Op("gt", "a > b", True, ("greater",)), Op("ge", "a >= b", True, ("greater_equal",)),
    Op("eq", "a == b", True, ("equal",)), Op("ne", "a != b", True, ("not_equal",)),
]

# dtype -> the suffix of its kernel entry points (every family has _32 and _64)
BITS = {np.dtype(np.float32): "32", np.dtype(np.float64): "64"}
# numpy / Knet name -> kernel in unary.cu
UNARY = {n: f.kernel for f in FUNCS + ACTS for n in (f.kernel,) + f.aliases}
# numpy name -> (kernel in binary.cu, True when the result is bool)
BINARY = {n: (o.kernel, o.compare) for o in OPS for n in o.aliases}
# activation -> what its gradient kernel reads besides dy ("y" output, "x" input)
ACTIVATION_BACK = {b.act: b.reads for b in BACKS}
# numpy formulas of the activations and of their gradients
ACTIVATIONS = {a.kernel: a.numpy for a in ACTS}
ACTIVATION_GRADS = {b.act: (b.reads, b.numpy) for b in BACKS}

# ------------------------------------------------------------------ the generated sources
_GEN = "// GENERATED by knetpy/backends/kernel_table.py from its tables: do not edit by hand.\n"


def _defines():
    return "".join(f"#define KNET_{k} {v!r}\n" for k, v in CONSTANTS.items())


_UNARY_HEAD = """\
// unary.cu: elementwise functions of one array, y[i] = f(x[i]).
// Entry points NAME_32 / NAME_64(long long n, const T* x, T* y) for every unary
// function Knet lists for KnetArray, plus the activations.
#include "knet_common.cuh"
{defines}
template <class T, class F>
__device__ __forceinline__ void knet_map1(long long n, const T* x, T* y, F f) {{
    KNET_LOOP(i, n) y[i] = f(x[i]);
}}

#define KNET_UNARY_ENTRY(NAME, BITS, T)                                          \\
    extern "C" __global__ void NAME##_##BITS(long long n, const T* x, T* y) {{    \\
        knet_map1(n, x, y, knet_u_##NAME());                                     \\
    }}
#define KNET_UNARY(NAME, EXPR)                                                   \\
    struct knet_u_##NAME {{                                                       \\
        template <class T> __device__ T operator()(T x) const {{ return EXPR; }}   \\
    }};                                                                           \\
    KNET_UNARY_ENTRY(NAME, 32, float) KNET_UNARY_ENTRY(NAME, 64, double)

"""

_ACTBACK_HEAD = """\
// actback.cu: activation gradients, dx[i] = f'(.) * dy[i], from the output y
// (or the input x for gelu).  Entry points NAME_back_32 / _64(long long n,
// const T* dy, const T* y, T* dx).
#include "knet_common.cuh"
{defines}
template <class T, class F>
__device__ __forceinline__ void knet_map2(long long n, const T* a, const T* b, T* y, F f) {{
    KNET_LOOP(i, n) y[i] = f(a[i], b[i]);
}}

#define KNET_BACK_ENTRY(NAME, BITS, T)                                                      \\
    extern "C" __global__ void NAME##_back_##BITS(long long n, const T* dy, const T* y,     \\
                                                  T* dx) {{                                  \\
        knet_map2(n, dy, y, dx, knet_b_##NAME());                                           \\
    }}
#define KNET_BACK(NAME, EXPR)                                                               \\
    struct knet_b_##NAME {{                                                                  \\
        template <class T> __device__ T operator()(T dy, T y) const {{ return EXPR; }}        \\
    }};                                                                                      \\
    KNET_BACK_ENTRY(NAME, 32, float) KNET_BACK_ENTRY(NAME, 64, double)

template <class T> __device__ __forceinline__ T knet_gelu_back(T dy, T x) {{
    T u = T(KNET_GELU_C) * (x + T(KNET_GELU_K) * x * x * x);
    T t = knet_tanh(u);
    T du = T(KNET_GELU_C) * (T(1) + T(3 * KNET_GELU_K) * x * x);
    return dy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
}}

"""

_BINARY_HEAD = """\
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
{defines}
// Offset of output element i in an array with the given element strides.
__device__ __forceinline__ long long knet_offset(long long i, int ndim, const long long* shape,
                                                 const long long* stride) {{
    long long off = 0;
    for (int d = ndim - 1; d >= 0; d--) {{
        long long s = shape[d];
        off += (i % s) * stride[d];
        i /= s;
    }}
    return off;
}}

template <class T, class R, class F>
__device__ __forceinline__ void knet_bin11(long long n, const T* a, const T* b, R* y, F f) {{
    KNET_LOOP(i, n) y[i] = f(a[i], b[i]);
}}
template <class T, class R, class F>
__device__ __forceinline__ void knet_bin01(long long n, T a, const T* b, R* y, F f) {{
    KNET_LOOP(i, n) y[i] = f(a, b[i]);
}}
template <class T, class R, class F>
__device__ __forceinline__ void knet_bin10(long long n, const T* a, T b, R* y, F f) {{
    KNET_LOOP(i, n) y[i] = f(a[i], b);
}}
template <class T, class R, class F>
__device__ __forceinline__ void knet_binbc(long long n, int ndim, const long long* meta,
                                           const T* a, const T* b, R* y, F f) {{
    KNET_LOOP(i, n) {{
        y[i] = f(a[knet_offset(i, ndim, meta, meta + ndim)],
                 b[knet_offset(i, ndim, meta, meta + 2 * ndim)]);
    }}
}}

#define KNET_BIN_ENTRIES(NAME, BITS, T, R)                                                    \\
    extern "C" __global__ void NAME##_##BITS##_11(long long n, const T* a, const T* b, R* y) {{\\
        knet_bin11(n, a, b, y, knet_o_##NAME());                                              \\
    }}                                                                                         \\
    extern "C" __global__ void NAME##_##BITS##_01(long long n, T a, const T* b, R* y) {{       \\
        knet_bin01(n, a, b, y, knet_o_##NAME());                                              \\
    }}                                                                                         \\
    extern "C" __global__ void NAME##_##BITS##_10(long long n, const T* a, T b, R* y) {{       \\
        knet_bin10(n, a, b, y, knet_o_##NAME());                                              \\
    }}                                                                                         \\
    extern "C" __global__ void NAME##_##BITS##_bc(long long n, int ndim, const long long* meta,\\
                                                  const T* a, const T* b, R* y) {{             \\
        knet_binbc(n, ndim, meta, a, b, y, knet_o_##NAME());                                  \\
    }}
#define KNET_OPSTRUCT(NAME, EXPR)                                                             \\
    struct knet_o_##NAME {{                                                                    \\
        template <class T> __device__ auto operator()(T a, T b) const {{ return EXPR; }}        \\
    }};
#define KNET_BINARY(NAME, EXPR)                                                               \\
    KNET_OPSTRUCT(NAME, EXPR)                                                                 \\
    KNET_BIN_ENTRIES(NAME, 32, float, float) KNET_BIN_ENTRIES(NAME, 64, double, double)
#define KNET_COMPARE(NAME, EXPR)                                                              \\
    KNET_OPSTRUCT(NAME, EXPR)                                                                 \\
    KNET_BIN_ENTRIES(NAME, 32, float, bool) KNET_BIN_ENTRIES(NAME, 64, double, bool)

// numpy's remainder: the result has the sign of the divisor.
template <class T> __device__ __forceinline__ T knet_mod(T a, T b) {{
    T r = knet_fmod(a, b);
    if (r != 0) {{
        if ((r < 0) != (b < 0)) r += b;
    }} else {{
        r = knet_copysign(T(0), b);
    }}
    return r;
}}

"""

_BINARY_TAIL = """
template <class T>
__device__ __forceinline__ void knet_copy(long long n, int ndim, const long long* meta,
                                          const T* x, T* y) {{
    KNET_LOOP(i, n) y[i] = x[knet_offset(i, ndim, meta, meta + ndim)];
}}
#define KNET_COPY(BITS, T)                                                                    \\
    extern "C" __global__ void copy_##BITS(long long n, int ndim, const long long* meta,      \\
                                           const T* x, T* y) {{                                \\
        knet_copy(n, ndim, meta, x, y);                                                       \\
    }}
KNET_BOTH(KNET_COPY)
"""


def _unary_source():
    body = "".join(f"KNET_UNARY({f.kernel}, {f.expr})\n" for f in FUNCS)
    acts = "".join(f"KNET_UNARY({a.kernel}, {a.expr})\n" for a in ACTS)
    return _GEN + _UNARY_HEAD.format(defines=_defines()) + body + "\n// activations\n" + acts


def _binary_source():
    body = "".join(f"KNET_{'COMPARE' if o.compare else 'BINARY'}({o.kernel}, {o.expr})\n"
                   for o in OPS)
    return _GEN + _BINARY_HEAD.format(defines="") + body + _BINARY_TAIL.format()


def _actback_source():
    body = "".join(f"KNET_BACK({b.act}, {b.expr})\n" for b in BACKS)
    return _GEN + _ACTBACK_HEAD.format(defines=_defines()) + body


GENERATED = {"unary": _unary_source, "binary": _binary_source, "actback": _actback_source}


def render(family):
    """render(family) -> the CUDA text of generated family ``family`` ("unary",
    "binary" or "actback"), made from this module's tables.

    >>> "KNET_UNARY(relu, knet_max(x, T(0)))" in render("unary")
    True
    """
    if family not in GENERATED:
        raise ValueError(f"render: family must be one of {sorted(GENERATED)}, got {family!r}")
    return GENERATED[family]()


def write(folder=None):
    """write(folder=None) -> list of the files rewritten: the generated ``.cu``
    files of ``folder`` (default: the installed ``knetpy.kernels``) brought up
    to date with ``render``; files already up to date are left alone."""
    if folder is None:
        from knetpy import kernels
        folder = kernels.include_dir()
    changed = []
    for fam in sorted(GENERATED):
        p = os.path.join(folder, f"{fam}.cu")
        text = render(fam)
        old = open(p).read() if os.path.exists(p) else None
        if old != text:
            with open(p, "w") as f:
                f.write(text)
            changed.append(p)
    return changed


if __name__ == "__main__":
    for p in write():
        print("rewrote", p)
