"""Widgets of the TUI: charts, the run header, the sample card and its parts."""
