"""Forecasting architectures, one package each (its hyperparameters in __init__, torch-free; its
network in net.py). `registry` lists them without importing torch; `base` is the interface."""
