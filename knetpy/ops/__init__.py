"""knetpy.ops: every differentiable operation of knetpy, each declared once.

- ``activations``: relu, elu, selu, sigm, gelu, invx;
- ``softmax``: softmax, logsoftmax (logp), logsumexp;
- ``losses``: nll, accuracy, zeroone, bce, logistic;
- ``linear``: bmm, mat;
- ``dropout``: Knet's dropout and the one mask path every dropout uses;
- ``normalization``: standardization over chosen axes (layer/group/instance/RMS norm);
- ``batchnorm``: the batch normalization op (Knet's batchnorm, bnmoments, bnparams);
- ``rnn``: the recurrence with its backward through time (its LSTM/GRU cells
  are backend methods, ``knetpy.backends``);
- ``bn_sync``: the cross-replica statistics of batchnorm (``comm=``);
- ``conv``: conv4, deconv4 (2-D and 3-D, groups); ``pool``: pool, unpool,
  maxpool, meanpool, lppool; ``operands``: their shared argument checks;
- ``device``: ``like``/``host``, moving a small array beside another one.

Every numeric kernel an op needs is a method of the backend that owns its
arrays (``knetpy.backends``): the ops never ask which device they run on.

Layers (``knetpy.layers``) and Knet's ``RNN`` call these ops; ``knetpy``
exports their public names (each module's ``__all__``).  The package itself
binds no function names, so ``knetpy.ops.dropout`` is the module, not the
function.
"""
