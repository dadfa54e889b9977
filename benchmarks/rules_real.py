"""Rules and fidelity on the real tables in ../shared/data (mall, wholesale, CDNOW RFM).

python benchmarks/rules_real.py
"""

from __future__ import annotations

from pathlib import Path

from custseg import segment
from custseg.rfm import segment_rfm

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
INCOME_SPENDING = "Annual Income (k$),Spending Score (1-100)"


def main() -> None:
    mall, wholesale = DATA / "mall_customers.csv", DATA / "wholesale_customers.csv"
    runs = [
        ("mall, income + spending, k=5", segment(mall, features=INCOME_SPENDING, k=5)),
        ("mall, all numeric (k auto)", segment(mall)),
        ("wholesale (k auto)", segment(wholesale)),
        ("wholesale --log auto (k auto)", segment(wholesale, log="auto")),
        ("CDNOW RFM (k auto)", segment_rfm(DATA / "CDNOW_master.txt")),
    ]
    for label, seg in runs:
        rules = seg.rules
        longest = max(len(leaf.conditions) for leaf in rules.leaves)
        print(f"### {label}: k={seg.k}, fidelity {rules.fidelity:.1%}, most conditions {longest}")
        for p in seg.profiles:
            share = rules.segment_fidelity.get(p.id, 0.0)
            print(f"- {p.name}: {rules.rule(p.id, seg.label)} ({share:.0%})")


if __name__ == "__main__":
    main()
