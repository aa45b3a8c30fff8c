"""Feedback beyond unit tests: AI judges, a learned reward model, the teacher, tripwires for
reward hacking, style scores and imported human ratings (issue 6).

Nothing here imports torch at package import time; the modules that need it (`reward_model`,
`judge.local`, `dpo_train`) import it themselves.
"""
