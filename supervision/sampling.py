"""The field spot-check sample (实地监督核查): at least 30% of each unit's decided cases.

Strata are (unit, kind). In each, the case ids in ascending order are sampled with one
`random.Random(seed)` walking the strata in (unit id, kind) order, taking ceil(30% × n): so
every unit that decided a case has at least one drawn, and anyone holding the seed can
repeat the draw from the records.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from cases.models import Case

SHARE = Decimal("0.30")

METHOD = (
    "按审核确认单位和救助类别分层：对抽查期间内作出审核确认决定的案件，"
    "每层按案件ID升序排列，以记录的随机种子初始化 Python random.Random，"
    "按单位ID、救助类别的顺序逐层用 sample() 抽取 ceil(30%×层内案件数) 件；"
    "凡有审核确认案件的单位至少抽取1件。以相同种子可复现本次抽样。"
)


def decided_in(period_start: date, period_end: date) -> QuerySet[Case]:
    """The cases a unit decided in the period (the population of the draw)."""
    return Case.objects.filter(decided_on__gte=period_start, decided_on__lte=period_end)


def strata(period_start: date, period_end: date) -> dict[tuple[int, str], list[int]]:
    """Case ids per (unit, kind), ascending."""
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    # Sorted here: a month's tens of thousands of ids sort in milliseconds in Python, where the
    # database's ORDER BY spills to disk at the default work_mem.
    rows = decided_in(period_start, period_end).order_by()
    for case_id, unit_id, kind in rows.values_list("id", "unit_id", "kind").iterator(
        chunk_size=10000
    ):
        groups[(unit_id, kind)].append(case_id)
    for ids in groups.values():
        ids.sort()
    return dict(sorted(groups.items()))


def sample_size(n: int, share: Decimal = SHARE) -> int:
    return math.ceil(share * n) if n else 0


def draw_ids(
    groups: dict[tuple[int, str], list[int]], seed: int, share: Decimal = SHARE
) -> dict[tuple[int, str], list[int]]:
    """The drawn ids per stratum, the same for the same seed and population."""
    rng = random.Random(seed)
    return {
        key: sorted(rng.sample(groups[key], sample_size(len(groups[key]), share)))
        for key in sorted(groups)
    }
