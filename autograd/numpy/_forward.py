"""The module ``__getattr__`` shared by autograd.numpy and its submodules."""


def forward_getattr(module, name):
    """A module-level ``__getattr__`` for the module called ``name`` that looks
    every other attribute up in ``module`` (the numpy module it stands for)."""
    def __getattr__(attr):
        try:
            return getattr(module, attr)
        except AttributeError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None
    return __getattr__
