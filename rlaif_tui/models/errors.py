"""Errors the training loop reports to the user (and the daemon forwards as `error` events)."""


class NonFiniteError(RuntimeError):
    """NaN or inf in logits, log-probs, loss or gradients: the step is abandoned and nothing is
    saved, so the last good checkpoint stays `latest`."""
