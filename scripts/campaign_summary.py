"""Add up a campaign tally: examples, valid verdicts, exceptions and false accepts per strategy.

Usage::

    VC_IM_CAMPAIGN_TALLY=/tmp/tally.jsonl VC_IM_CAMPAIGN_EXAMPLES=10000 \\
        pytest -m slow -p no:cacheprovider tests/campaign
    python scripts/campaign_summary.py /tmp/tally.jsonl [--examples N]

Each line of the tally is one verification (a replayed presentation is two). The summary
prints one row per strategy, then each distinct exception and false accept once, with a
count and its first example.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


def summarise(lines: list[dict[str, Any]], show: int) -> str:
    """The table and the distinct problems, as text."""
    per: dict[str, Counter[str]] = defaultdict(Counter)
    slowest: dict[str, float] = defaultdict(float)
    problems: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        strategy = line["strategy"]
        per[strategy][line["kind"]] += 1
        per[strategy]["verifications"] += 1
        slowest[strategy] = max(slowest[strategy], float(line["seconds"]))
        if line["kind"] == "refused_oracle_accepts":
            line["problems"] = [f"refused ({line.get('verdict')}) though the oracle accepts"]
        for problem in line["problems"]:
            key = (strategy, line["kind"], line["signature"] or problem[:160])
            problems[key].append(line)
    out = ["| strategy | verifications | valid | invalid | exceptions | false accepts | "
           "slowest (s) |", "|---|---|---|---|---|---|---|"]
    for strategy in sorted(per):
        c = per[strategy]
        out.append(f"| {strategy} | {c['verifications']} | {c['valid']} | {c['invalid']} | "
                   f"{c['exception']} | {c['false_accept']} | {slowest[strategy]:.3f} |")
    for (strategy, kind, signature), found in sorted(problems.items()):
        out.append(f"\n{strategy}: {kind} x{len(found)}: {signature}")
        for line in found[:show]:
            out.append("  " + "\n  ".join(line["example"].splitlines()[:12]))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tally", type=Path)
    parser.add_argument("--show", type=int, default=1, help="examples shown per problem")
    args = parser.parse_args()
    lines = [json.loads(text) for text in args.tally.read_text(encoding="utf-8").splitlines()
             if text.strip()]
    print(summarise(lines, args.show))


if __name__ == "__main__":
    main()
