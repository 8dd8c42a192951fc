"""Targets of the benchmarks: each printed as met or missed."""

from collections.abc import Mapping


def check(targets: Mapping[str, bool]) -> list[str]:
    """Print each target as met or MISSED; returns the missed ones."""
    missed = []
    for label, ok in targets.items():
        print(f"  {'met ' if ok else 'MISSED'} {label}")
        if not ok:
            missed.append(label)
    return missed
