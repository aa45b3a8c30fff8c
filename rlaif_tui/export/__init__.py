"""`rlaif export` and `rlaif data export-pairs`: a finished (or running) run's policy as a plain
Hugging Face model directory, and its ratings as TRL preference pairs, offline."""
