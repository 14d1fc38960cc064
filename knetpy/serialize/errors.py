"""errors: the one exception a checkpoint that cannot be read gives."""

__all__ = ["CheckpointError"]


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or rebuilt (malformed, truncated,
    crafted, out of proportion, or naming a class that may not be loaded).

    >>> issubclass(CheckpointError, ValueError)
    True
    """
