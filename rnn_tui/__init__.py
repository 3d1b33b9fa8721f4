"""rnn-tui: train recurrent networks on dynamical systems and watch them forecast, in the terminal."""

__version__ = "0.1.0"
