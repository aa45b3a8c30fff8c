"""Evaluation: pass@k, A/B comparisons between checkpoints, `rlaif eval`, reports."""
