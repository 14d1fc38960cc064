"""The LeNet every CPU and GPU benchmark trains, written once for knetpy."""


def knetpy_lenet(K):
    """knetpy_lenet(K) -> loss: LeNet (20 and 50 5×5 filters, 2×2 max pools, a
    500-unit layer, 10 classes) with fresh knetpy Params, as ``loss(x, y)``, the
    nll of a batch of (N, 1, 28, 28) images; ``K`` is the ``knetpy`` module
    (imported by the caller, after its thread settings)."""
    w = [K.param(20, 1, 5, 5), K.param0(1, 20, 1, 1), K.param(50, 20, 5, 5),
         K.param0(1, 50, 1, 1), K.param(500, 800), K.param0(500), K.param(10, 500),
         K.param0(10)]

    def loss(xb, yb):
        h = K.pool(K.relu(K.conv4(w[0], xb) + w[1]))
        h = K.pool(K.relu(K.conv4(w[2], h) + w[3]))
        h = K.relu(K.mat(h) @ w[4].T + w[5])
        return K.nll(h @ w[6].T + w[7], yb)
    return loss
