"""Training: the `Trainer` (step loop, update, checkpoints/resume), DPO, curriculum, run directory.

The top of the training stack: it drives generation (`models`), scoring (`scoring`) and the
losses (`algos`); only the daemon, the CLI and benchmarks import it.
"""
