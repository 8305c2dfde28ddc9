"""Sum the test cases of a ``pytest --hypothesis-show-statistics`` log: per phase (generate,
reuse, shrink, explicit) and in total, passing, failing and invalid.

    HYPOTHESIS_PROFILE=long nice -n 10 python -m pytest tests/test_fuzz.py -q \\
        --hypothesis-show-statistics > fuzz.log
    python bench/count_hypothesis_cases.py fuzz.log
"""
from __future__ import annotations

import re
import sys
from collections import Counter

CASES = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid test cases")
PHASE = re.compile(r"- during (\w+) phase")
TEST = re.compile(r"^(tests/\S+::\S+):$")


def count(text: str) -> dict:
    totals, phases, tests, phase = Counter(), Counter(), set(), None
    for line in text.splitlines():
        if m := TEST.match(line.strip()):
            tests.add(m[1])
        elif m := PHASE.search(line):
            phase = m[1]
        elif m := CASES.search(line):
            p, f, i = map(int, m.groups())
            totals.update(passing=p, failing=f, invalid=i)
            phases[phase] += p + f + i
    return dict(properties=len(tests), cases=sum(totals.values()), **totals,
                by_phase=dict(phases))


if __name__ == "__main__":
    print(count(open(sys.argv[1], encoding="utf-8").read()))
