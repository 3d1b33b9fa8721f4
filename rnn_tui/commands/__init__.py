"""Sub-commands of the CLI. Each module has `register(subparsers)`, which adds a parser whose
`func` default is the function to run with the parsed arguments (returning an exit code)."""
