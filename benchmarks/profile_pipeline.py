"""Where a delivery's time goes: cProfile of the pipeline benchmark, top entries.

    python benchmarks/profile_pipeline.py [MESSAGES [SORT]]

Not run by ``nox -s bench`` (its name does not start with ``bench_``): a profile is for
reading when a figure moves, not for every run.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _sink import sink
from bench_pipeline import pipeline


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with sink() as (url, label):
        print(f"sink: {label}", file=sys.stderr)
        profile = cProfile.Profile()
        rate = profile.runcall(pipeline, url, messages, 1)
    print(f"{rate:,.0f} deliveries/s under the profiler (slower than without it)")
    order = sys.argv[2] if len(sys.argv) > 2 else "cumulative"  # or tottime: own time
    pstats.Stats(profile).sort_stats(order).print_stats(40)


if __name__ == "__main__":
    main()
