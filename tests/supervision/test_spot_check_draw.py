"""The spot-check sample: ≥30% per unit and kind, reproducible from its seed, drawn once."""

from __future__ import annotations

import math
from datetime import date

import pytest
import time_machine

from cases.models import Case, Kind
from dengkou_aid.errors import Conflict, NotAllowed
from supervision.models import SpotCheckDraw, SpotCheckSample
from supervision.sampling import draw_ids, strata
from supervision.services import draw_spot_check_sample
from supervision.tasks import draw_monthly_sample

from ..factories import CaseFactory

pytestmark = pytest.mark.django_db

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def decided_in_march(people):
    def make(unit, village, kind, n, day=date(2026, 3, 10)):
        for _ in range(n):
            case = CaseFactory(applicant__household__village=village, kind=kind)
            Case.objects.filter(pk=case.pk).update(decided_on=day, state="approved")

    make(people.unit_a, people.village_a, Kind.DIBAO, 10)
    make(people.unit_a, people.village_a, Kind.TEKUN, 1)
    make(people.unit_b, people.village_b, Kind.DIBAO, 7)
    make(people.unit_b, people.village_b, Kind.MARGINAL, 3)
    make(people.unit_b, people.village_b, Kind.DIBAO, 5, day=date(2026, 4, 1))  # not in March
    return people


def test_the_draw_takes_at_least_30_percent_of_each_unit_and_kind(decided_in_march):
    people = decided_in_march
    draw = draw_spot_check_sample(
        period_start=MARCH[0], period_end=MARCH[1], actor=people.supervisor
    )
    drawn = {}
    for sample in draw.samples.all():
        drawn.setdefault((sample.unit_id, sample.kind), []).append(sample.case)
    assert {key: len(cases) for key, cases in drawn.items()} == {
        (people.unit_a.pk, Kind.DIBAO): 3,
        (people.unit_a.pk, Kind.TEKUN): 1,
        (people.unit_b.pk, Kind.DIBAO): 3,
        (people.unit_b.pk, Kind.MARGINAL): 1,
    }
    for (unit_id, kind), cases in drawn.items():
        population = Case.objects.filter(unit_id=unit_id, kind=kind, decided_on__month=3).count()
        assert len(cases) >= math.ceil(0.3 * population)
        assert all(c.decided_on.month == 3 and c.unit_id == unit_id for c in cases)


def test_the_same_seed_draws_the_same_cases_and_the_draw_records_it(decided_in_march):
    people = decided_in_march
    draw = draw_spot_check_sample(
        period_start=MARCH[0], period_end=MARCH[1], actor=people.supervisor, seed=20260401
    )
    again = draw_ids(strata(*MARCH), draw.seed)
    assert sorted(i for ids in again.values() for i in ids) == sorted(
        draw.samples.values_list("case_id", flat=True)
    )
    assert draw.seed == 20260401 and draw.drawn_by == people.supervisor
    assert "random.Random" in draw.method
    assert draw.parameters["population"] == 21


def test_a_second_draw_for_the_period_is_refused_without_a_reason(decided_in_march):
    people = decided_in_march
    first = draw_spot_check_sample(
        period_start=MARCH[0], period_end=MARCH[1], actor=people.supervisor
    )
    with pytest.raises(
        Conflict, match="本期已抽样，不能重复抽取；如确需重抽，须由县民政局监管人员说明理由"
    ):
        draw_spot_check_sample(period_start=MARCH[0], period_end=MARCH[1], actor=people.supervisor)
    with pytest.raises(NotAllowed, match="此操作须由县民政局监管人员办理"):
        draw_spot_check_sample(
            period_start=MARCH[0], period_end=MARCH[1], actor=people.handler, redraw_reason="重抽"
        )
    redraw = draw_spot_check_sample(
        period_start=MARCH[0],
        period_end=MARCH[1],
        actor=people.supervisor,
        redraw_reason="案件数据导入有误，修正后重抽",
    )
    assert redraw.redraw_of == first
    assert SpotCheckSample.objects.filter(draw=first).count() == 8


def test_the_monthly_task_draws_the_previous_month_once(decided_in_march):
    with time_machine.travel(date(2026, 4, 2)):
        first = draw_monthly_sample.delay().get()
        second = draw_monthly_sample.delay().get()
    assert first == second
    draw = SpotCheckDraw.objects.get()
    assert (draw.period_start, draw.period_end) == MARCH
    assert draw.drawn_by is None


def test_the_draw_page_shows_each_stratum_and_one_page_of_samples(decided_in_march, login):
    people = decided_in_march
    draw = draw_spot_check_sample(
        period_start=MARCH[0], period_end=MARCH[1], actor=people.supervisor
    )
    client = login(people.supervisor)

    page = client.get(f"/supervision/spot-checks/{draw.pk}/").content.decode()
    strata_table = page.split('data-testid="draw-strata"')[1].split("</table>")[0]
    assert strata_table.count("<tr>") == 1 + 4  # header and the four unit × kind strata
    assert "共 8 件" in page

    only_b = client.get(
        f"/supervision/spot-checks/{draw.pk}/?unit={people.unit_b.pk}&kind=dibao"
    ).content.decode()
    samples = only_b.split('data-testid="draw-samples"')[1].split("</table>")[0]
    assert samples.count("录入核查") == 3 and people.unit_a.name not in samples
    assert "共 3 件" in only_b

    none_checked = client.get(f"/supervision/spot-checks/{draw.pk}/?checked=yes")
    assert "共 0 件" in none_checked.content.decode()
