"""rlaif-tui: reinforcement learning from execution, AI and human feedback for code models.

Importing the package is cheap on purpose: training code (torch, transformers) and the
TUI (textual) are imported only by the parts that need them.
"""

__version__ = "0.1.0"
