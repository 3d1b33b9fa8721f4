"""Inside the network: what a forecaster's hidden state, gates, recurrent spectrum, gradient through
time and closed-form readout look like (notes 000, 002, 003). Pure functions on tensors and arrays,
and the typed results (`results.py`) each architecture's probe returns (its probe lives beside its
network: `models/*/probe.py`; the default one, the Jacobian of the one-step map, in `models/probe.py`)."""
