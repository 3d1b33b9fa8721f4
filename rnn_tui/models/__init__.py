"""Forecasting architectures. `registry` lists them without importing torch; `base` is the interface."""
