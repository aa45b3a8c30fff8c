# Hand-written stub for the Rust extension `rlaif_tui._reward` (reward_rs/src/python.rs).
# Checked against the compiled module by `python -m mypy.stubtest rlaif_tui._reward`.

__version__: str
__all__ = ["__version__"]
