"""Reference computations shared by several test files (imported like grad_table):
central differences for real and complex inputs, the dropout kernel's draw, and
the random inputs and tolerances of the kernel-versus-numpy tests."""
import numpy as np

DTYPES = (np.float32, np.float64)


def rnd(shape, dt=np.float64, seed=0):
    """Standard normal numbers of ``shape`` in dtype ``dt``, from generator ``seed``."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dt)


def kernel_close(dt, f32):
    """assert_allclose tolerances of a kernel against numpy: 1e-12 in float64, ``f32`` in float32."""
    return dict(rtol=1e-12, atol=1e-12) if dt == np.float64 else dict(rtol=f32, atol=f32)


def numeric_grad(f, x, h=1e-6):
    """Central differences of a real scalar f at a real array x."""
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def complex_numeric_grad(f, z, h=1e-6):
    """HIPS convention for a real loss L at z = x + iy: dL/dx - i dL/dy, by central
    differences in the real and imaginary parts."""
    z = np.array(z, dtype=complex)
    g = np.zeros_like(z)
    for i in range(z.size):
        e = np.zeros(z.shape)
        e.flat[i] = h
        dx = (f(z + e) - f(z - e)) / (2 * h)
        dy = (f(z + 1j * e) - f(z - 1j * e)) / (2 * h)
        g.flat[i] = dx - 1j * dy
    return g


def uniform_reference(seed, n):
    """The dropout kernel's counter-based draw for element i: splitmix64(seed ^ mix(i)) / 2^64."""
    def mix(z):
        z = z + np.uint64(0x9e3779b97f4a7c15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xbf58476d1ce4e5b9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94d049bb133111eb)
        return z ^ (z >> np.uint64(31))
    with np.errstate(over="ignore"):
        h = mix(np.uint64(seed) ^ mix(np.arange(n, dtype=np.uint64)))
    return (h >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
