"""Gradients of numpy.fft.

The four 1-D transforms are primitives; the 2-D and N-D transforms, the
Hermitian ones and the shifts are built from them exactly as numpy builds
them (one 1-D transform per axis), so repeated axes and any ``s`` work.

Gradients follow the complex convention of the package (see rules/complex.py):
for a complex-linear map ``y = A x`` the gradient is ``A^T dy``, taken to its
real part when ``x`` is real.  The DFT matrix is symmetric for every
``norm``, so the gradient of ``fft`` is ``fft`` of the output gradient.
"""
import numpy as np

from .common import match as match_real  # g as the gradient of x: real part for real x
from ..core import _raw
from ..registry import register
from ..registry import defgrad

_fft, _ifft, _rfft, _irfft = np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft


def fit(a, length, axis):
    """a cut or zero-padded at the end of ``axis`` to ``length`` (differentiable)."""
    n = np.shape(_raw(a))[axis]
    if n == length:
        return a
    ax = axis % np.ndim(_raw(a))
    if n > length:
        return a[(slice(None),) * ax + (slice(0, length),)]
    shape = list(np.shape(_raw(a)))
    shape[ax] = length - n
    return np.concatenate([a, np.zeros(shape, np.result_type(_raw(a)))], axis=ax)


def _check_norm(norm):
    if norm not in (None, "backward", "ortho", "forward"):
        raise ValueError(f"fft: norm must be None, 'backward', 'ortho' or 'forward', got {norm!r}")


def _fft_grad(transform):
    def g(dy, y, a, n=None, axis=-1, norm=None, out=None):
        _check_norm(norm)
        return match_real(a, fit(transform(dy, None, axis, norm), np.shape(_raw(a))[axis], axis))
    return g


defgrad(_fft, _fft_grad(_fft))
defgrad(_ifft, _fft_grad(_ifft))


def _rfft_grad(dy, y, a, n=None, axis=-1, norm=None, out=None):
    # rfft keeps the first n//2+1 outputs of a full fft: the transpose pads dy
    # with zeros back to n and applies the (symmetric) fft again.
    _check_norm(norm)
    n = np.shape(_raw(a))[axis] if n is None else n
    g = np.real(_fft(dy, n, axis, norm))
    return fit(g, np.shape(_raw(a))[axis], axis)


def _irfft_scale(n, norm):
    return {None: 1.0 / n, "backward": 1.0 / n, "ortho": 1.0 / np.sqrt(n), "forward": 1.0}[norm]


def _irfft_grad(dy, y, a, n=None, axis=-1, norm=None, out=None):
    # y_t = s * sum_k w_k Re(a_k exp(2 pi i k t / n)), w_k = 1 for k = 0 and
    # k = n/2, else 2; so grad a_k = s * w_k * conj(rfft(dy))_k.
    _check_norm(norm)
    m = np.shape(_raw(a))[axis]
    n = 2 * (m - 1) if n is None else n
    ax = axis % np.ndim(_raw(a))
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    weights = np.reshape(weights, (-1,) + (1,) * (np.ndim(_raw(a)) - ax - 1))
    g = np.conj(_rfft(dy, n, ax, None)) * (weights * _irfft_scale(n, norm))
    return fit(g, m, ax)


defgrad(_rfft, _rfft_grad)
defgrad(_irfft, _irfft_grad)


# ------------------------------------------------------- built from the 1-D transforms
def _nd_args(a, s, axes, last_half=False):
    """numpy's defaults for s and axes of the N-D transforms."""
    shape = np.shape(_raw(a))
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(len(shape)))
    axes = [int(ax) for ax in (axes if np.ndim(axes) else [axes])]
    if s is None:
        s = [shape[ax] for ax in axes]
        if last_half and axes:
            s[-1] = 2 * (shape[axes[-1]] - 1)
    s = [int(v) for v in s]
    if len(s) != len(axes):
        raise ValueError(f"fft: s and axes must have the same length, got {len(s)} and {len(axes)}")
    return s, axes


def fftn(a, s=None, axes=None, norm=None, out=None):
    """fftn(a, s=None, axes=None, norm=None): N-D discrete Fourier transform
    (one differentiable 1-D fft per axis, as numpy computes it)."""
    s, axes = _nd_args(a, s, axes)
    for n, ax in reversed(list(zip(s, axes))):
        a = np.fft.fft(a, n, ax, norm)
    return a


def ifftn(a, s=None, axes=None, norm=None, out=None):
    """ifftn(a, s=None, axes=None, norm=None): N-D inverse transform."""
    s, axes = _nd_args(a, s, axes)
    for n, ax in reversed(list(zip(s, axes))):
        a = np.fft.ifft(a, n, ax, norm)
    return a


def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """fft2(a, s=None, axes=(-2, -1), norm=None): 2-D transform."""
    return fftn(a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """ifft2(a, s=None, axes=(-2, -1), norm=None): 2-D inverse transform."""
    return ifftn(a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm=None, out=None):
    """rfftn(a, s=None, axes=None, norm=None): N-D transform of real input
    (rfft on the last axis, then fft on the others)."""
    s, axes = _nd_args(a, s, axes)
    a = np.fft.rfft(a, s[-1], axes[-1], norm)
    for n, ax in reversed(list(zip(s[:-1], axes[:-1]))):
        a = np.fft.fft(a, n, ax, norm)
    return a


def irfftn(a, s=None, axes=None, norm=None, out=None):
    """irfftn(a, s=None, axes=None, norm=None): inverse of rfftn."""
    s, axes = _nd_args(a, s, axes, last_half=True)
    for n, ax in reversed(list(zip(s[:-1], axes[:-1]))):
        a = np.fft.ifft(a, n, ax, norm)
    return np.fft.irfft(a, s[-1], axes[-1], norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """rfft2(a, s=None, axes=(-2, -1), norm=None): 2-D real transform."""
    return rfftn(a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """irfft2(a, s=None, axes=(-2, -1), norm=None): inverse of rfft2."""
    return irfftn(a, s, axes, norm)


_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def hfft(a, n=None, axis=-1, norm=None, out=None):
    """hfft(a, n=None, axis=-1, norm=None): transform of a Hermitian-symmetric
    signal given by its first half (irfft of the conjugate, numpy's way)."""
    _check_norm(norm)
    return np.fft.irfft(np.conj(a), n, axis, _SWAP[norm])


def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """ihfft(a, n=None, axis=-1, norm=None): inverse of hfft."""
    _check_norm(norm)
    return np.conj(np.fft.rfft(a, n, axis, _SWAP[norm]))


def _shift(x, axes, sign):
    shape = np.shape(_raw(x))
    if axes is None:
        axes = tuple(range(len(shape)))
    if np.ndim(axes) == 0:
        return np.roll(x, sign * (shape[axes] // 2), axes)
    axes = tuple(axes)
    return np.roll(x, tuple(sign * (shape[ax] // 2) for ax in axes), axes)


def fftshift(x, axes=None):
    """fftshift(x, axes=None): zero frequency moved to the centre (a roll)."""
    return _shift(x, axes, 1)


def ifftshift(x, axes=None):
    """ifftshift(x, axes=None): inverse of fftshift."""
    return _shift(x, axes, -1)


for _name, _impl in [("fftn", fftn), ("ifftn", ifftn), ("fft2", fft2), ("ifft2", ifft2),
                     ("rfftn", rfftn), ("irfftn", irfftn), ("rfft2", rfft2),
                     ("irfft2", irfft2), ("hfft", hfft), ("ihfft", ihfft),
                     ("fftshift", fftshift), ("ifftshift", ifftshift)]:
    register(getattr(np.fft, _name), _impl)
del _name, _impl

__all__ = ["fit", "match_real", "fftn", "ifftn", "fft2", "ifft2", "rfftn", "irfftn", "rfft2",
           "irfft2", "hfft", "ihfft", "fftshift", "ifftshift"]
