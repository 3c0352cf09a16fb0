"""The publicity notice and the standing public list show only the masked name, village,
household size, kind, amount and the unit's complaint telephone — never ID numbers, birth
dates, addresses, health or account data; minors supported as tekun are not published."""

from __future__ import annotations

from datetime import date

from cases.documents.services import issue_document, read_document
from cases.models import DocType, Kind, Person, State
from dengkou_aid.lib.pdfcheck import pdf_text

from ..factories import VillageFactory
from .builders import ACCOUNT, ADDRESS, ILLNESS, make_case, set_state


def _private_data(case) -> list[str]:
    members = Person.objects.filter(household=case.household)
    values = [ACCOUNT, ADDRESS, ILLNESS, "尿毒症", "残疾"]
    for person in members:
        values += [person.id_number, person.id_number[-4:] + "", f"{person.birth_date:%Y%m%d}"]
        values += [
            f"{person.birth_date:%Y-%m-%d}",
            f"{person.birth_date.year}年{person.birth_date.month}月",
        ]
    values.append("张建国")  # the full name: only 张*国 may appear
    return values


def _compact(text: str) -> str:
    return "".join(text.split())


def test_the_publicity_notice_carries_only_what_may_be_published(people):
    case = make_case(people, State.IN_PUBLICITY)

    document = issue_document(case=case, doc_type=DocType.PUBLICITY_NOTICE, actor=people.handler)

    text = _compact(pdf_text(read_document(document)))
    for value in _private_data(case):
        if value.isdigit() and len(value) == 4:
            continue  # four digits may be part of a year or a phone
        assert value not in text, value
    for shown in ("张*国", "样例嘎查A", "城乡低保", "1190.00", "0478-6612345"):
        assert shown in text
    assert "张建国" not in str(document.context)


def test_the_public_list_carries_only_what_may_be_published(people, client):
    case = make_case(people, State.APPROVED)
    set_state(case, State.IN_PAYMENT)

    html = client.get(f"/public/{people.unit_a.code}/publicity/").content.decode()

    for value in _private_data(case):
        if value.isdigit() and len(value) == 4:
            continue
        assert value not in html, value
    for shown in ("张*国", "样例嘎查A", "城乡低保", "1190.00", "0478-6612345"):
        assert shown in html
    assert ">2<" in html  # household size


def test_a_minor_supported_as_tekun_is_not_on_the_public_list(people, client):
    child = make_case(
        people, State.APPROVED, kind=Kind.TEKUN, head_name="李小宝", head_birth=date(2015, 6, 1)
    )
    adult = make_case(people, State.APPROVED, kind=Kind.TEKUN, head_name="赵老汉")
    set_state(child, State.IN_PAYMENT)
    set_state(adult, State.STANDING_PUBLICITY)

    html = client.get(f"/public/{people.unit_a.code}/publicity/").content.decode()

    assert "赵*汉" in html
    assert "李*宝" not in html and "李小宝" not in html


def test_a_minor_is_not_named_in_a_tekun_publicity_notice(people):
    case = make_case(
        people, State.IN_PUBLICITY, kind=Kind.TEKUN, head_name="李小宝", head_birth=date(2015, 6, 1)
    )

    document = issue_document(case=case, doc_type=DocType.PUBLICITY_NOTICE, actor=people.handler)

    text = _compact(pdf_text(read_document(document)))
    assert "李*宝" not in text and "李小宝" not in text
    assert "依规不公示姓名" in text


def test_households_not_in_payment_are_not_listed(people, client):
    make_case(people, State.IN_PUBLICITY)

    html = client.get(f"/public/{people.unit_a.code}/publicity/").content.decode()

    assert "张*国" not in html and "暂无公示对象" in html


def test_the_list_filters_by_village_and_offers_no_search_by_id_number(people, client):
    case = make_case(people, State.APPROVED)
    set_state(case, State.IN_PAYMENT)
    id_number = case.applicant.id_number

    other_village = VillageFactory(unit=people.unit_a, name="样例社区C")
    by_other_village = client.get(
        f"/public/{people.unit_a.code}/publicity/", {"village": other_village.pk}
    ).content.decode()
    not_this_units = client.get(
        f"/public/{people.unit_a.code}/publicity/", {"village": people.village_b.pk}
    )
    by_id = client.get(
        f"/public/{people.unit_a.code}/publicity/", {"q": id_number, "id_number": id_number}
    )

    assert "张*国" not in by_other_village
    assert not_this_units.status_code == 404
    assert id_number not in by_id.content.decode()
    assert 'name="q"' not in by_id.content.decode() and "身份证" not in by_id.content.decode()
