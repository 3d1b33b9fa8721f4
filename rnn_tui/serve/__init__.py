"""Browser mode (`rnn-tui serve`): the app served to web browsers through textual-serve, each tab its
own app process, at most a fixed number at once. Nothing here is imported by `rnn-tui --help`."""
