"""Shared model blocks: the epoch-by-epoch network trainer, BG/NBD and the metrics."""
