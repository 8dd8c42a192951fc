"""Run every benchmark: ``python -m benchmarks`` (``make bench``)."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    folder = str(Path(__file__).parent)
    names = sorted(m.name for m in pkgutil.iter_modules([folder]) if m.name.startswith("bench_"))
    failed = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        if importlib.import_module(f"benchmarks.{name}").main() != 0:
            failed.append(name)
    if failed:
        print(f"\nTargets missed in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
