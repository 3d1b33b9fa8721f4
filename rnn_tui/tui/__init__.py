"""The terminal app: a thin Textual front end over rnn_tui.core (configure, train live, watch, export)."""
