"""Fast paths that replace torch code with the same numbers, each with its equivalence tests in
tests/kernels/: a whole-sequence Elman layer with a hand-written backward (`fused_rnn`), the
carried-state free run in numpy (`np_carry`) and the CUDA-graph training step (`cudagraph`)."""
