"""CUDA C sources for the GPU backend of knetpy (installed as knetpy.kernels)."""
