"""Many models at once (train.ensemble = K): K copies of one architecture, member j from seed
train.seed + j, trained as one batched model (models/stacked.py) so that small models, whose steps
are mostly overhead, train K at the price of few. Each member's weights, batch order, optimiser
state, learning rate, clipping, divergence and early stopping are its own, so member j ends exactly
where the ordinary run with train.seed = seed + j ends (tests/test_ensemble.py, float64).

trainer.py runs the epochs (members.py: each member's record); step.py is the batched optimisation
step; optim.py the per-member optimiser and schedules; losses.py and forecast.py score members and
their mean forecast.
"""
