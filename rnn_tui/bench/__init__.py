"""Benchmarks: `rnn-tui bench speed` (throughput against the notes' plain PyTorch loop) and
`rnn-tui bench skill` (forecast skill against the figures the course notes publish), `rnn-tui bench
dysts` (one preset across the dysts catalogue's flows)."""
