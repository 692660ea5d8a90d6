"""Finished kernels that several labs reuse (import name: dlc_kernels)."""
