"""knetpy.ops: every differentiable operation of knetpy, each declared once.

- ``activations``: relu, elu, selu, sigm, gelu, invx (and the SELU/GELU constants);
- ``softmax``: softmax, logsoftmax (logp), logsumexp;
- ``losses``: nll, accuracy, zeroone, bce, logistic;
- ``linear``: bmm, mat;
- ``dropout``: Knet's dropout and the one mask path every dropout uses;
- ``normalization``: standardization over chosen axes (layer/group/instance/RMS norm);
- ``batchnorm``: the batch normalization op (Knet's batchnorm, bnmoments, bnparams);
- ``rnn``: the recurrence with its backward through time (its LSTM/GRU cells
  are backend methods, ``knetpy.backends``);
- ``device``: the one place an op asks whether its inputs have a device kernel.

Layers (``knetpy.layers``) and Knet's ``RNN`` call these ops; ``knetpy``
exports their public names (each module's ``__all__``).  The package itself
binds no function names, so ``knetpy.ops.dropout`` is the module, not the
function.
"""
