"""Convolution on a kernel backend (the GPU path of ``knetpy.conv``).

The three convolution passes are methods of every backend
(``Backend.conv_forward``, ``conv_backward_w``, ``conv_backward_x``; see
``knetpy.backends.host_conv``): batched matrix products over the per-instance
im2col layout, which a kernel backend computes with its ``conv.cu``
im2col/col2im kernels for 4-D and 5-D input.  ``knetpy.conv`` still chooses
between this path and its host GEMM code with ``usable``; these functions
keep its call form (backend first).
"""
__all__ = ["usable", "conv_forward", "conv_backward_w", "conv_backward_x"]


def usable(be, ndim):
    """usable(be, ndim) -> True when backend ``be`` computes convolutions of
    ``ndim``-D input with device kernels (4-D or 5-D on a kernel backend)."""
    return be is not None and getattr(be, "device_kernels", False) and ndim in (4, 5)


def conv_forward(be, w, x, padding, stride, dilation, mode, alpha, groups):
    """y = alpha * conv(w, x) on backend ``be`` (``be.conv_forward``)."""
    return be.conv_forward(w, x, padding, stride, dilation, mode, alpha, groups)


def conv_backward_w(be, x, dy, wshape, padding, stride, dilation, mode, alpha, groups):
    """Gradient of ``conv_forward`` w.r.t. w (``be.conv_backward_w``)."""
    return be.conv_backward_w(x, dy, wshape, padding, stride, dilation, mode, alpha, groups)


def conv_backward_x(be, w, dy, xshape, padding, stride, dilation, mode, alpha, groups):
    """Gradient of ``conv_forward`` w.r.t. x (``be.conv_backward_x``)."""
    return be.conv_backward_x(w, dy, xshape, padding, stride, dilation, mode, alpha, groups)
