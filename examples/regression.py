"""Fit a linear regression with grad and plain gradient steps."""
import numpy as np

from autograd import Param, diff, grad

rng = np.random.default_rng(0)
x = rng.standard_normal((200, 5))
w_true = rng.standard_normal((5, 1))
y = x @ w_true + 0.01 * rng.standard_normal((200, 1))

w = Param(np.zeros((5, 1)))
b = Param(np.zeros(1))
loss = lambda: np.mean((x @ w + b - y) ** 2)
for step in range(200):
    tape = diff(loss)
    w -= 0.1 * grad(tape, w)
    b -= 0.1 * grad(tape, b)
print(f"final loss {float(loss()):.5f}; weight error {np.abs(w.value - w_true).max():.4f}")
