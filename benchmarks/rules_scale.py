"""What the segment rules cost and how faithful they are on the 1M benchmark table.

    python benchmarks/rules_scale.py [rows]

Generates the synthetic table of ``generate.py`` (id + 6 features, 6 true segments), runs
``segment(k=6)`` once, then times the rules step alone (``fit_rules``, median of 3) and prints
the fidelity, the longest rule and the rules' share of the run's wall time.
"""

from __future__ import annotations

import statistics
import sys
import time

from generate import customers

from custseg import segment
from custseg.pipeline.rules import fit_rules
from custseg.segmentation import imputed_values


def main(rows: int = 1_000_000) -> None:
    table, _ = customers(rows)
    frame = table.to_pandas()
    start = time.perf_counter()
    seg = segment(frame, k=6, features=[c for c in frame.columns if c != "CustomerID"])
    run = time.perf_counter() - start
    fill = dict(zip(seg.plan.numeric, imputed_values(seg.preprocessor), strict=True))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        rules = fit_rules(seg.values(), seg.labels, fill, depth=3)
        times.append(time.perf_counter() - start)
    cost = statistics.median(times)
    print(f"rows: {rows:,}; run (with rules): {run:.1f} s; rules step: {cost:.2f} s")
    print(f"rules add {cost / (run - cost):.1%} to the run without them")
    print(f"fidelity: {rules.fidelity:.1%}; per segment: "
          + ", ".join(f"{s}: {v:.0%}" for s, v in rules.segment_fidelity.items()))  # fmt: skip
    print(f"most conditions in a rule: {max(len(leaf.conditions) for leaf in rules.leaves)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
