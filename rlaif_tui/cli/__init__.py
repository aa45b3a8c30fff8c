"""Command-line entry points. Each module only parses arguments and calls one function."""
