"""Policies: hub or local causal LMs (optionally LoRA), the quickstart's tiny model, value heads."""
