"""One publicity list per village: the handler posts one notice listing every household of the
village in publicity that week, masked as on each case's own notice."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.documents.services import issue_village_publicity, read_document
from cases.models import DocType, Document, State
from dengkou_aid.errors import DomainError, NotAllowed
from dengkou_aid.lib.pdfcheck import pdf_text

from .builders import make_case


def test_the_village_list_names_every_household_in_publicity_masked(people):
    first = make_case(people, State.IN_PUBLICITY, head_name="张建国")
    second = make_case(people, State.IN_PUBLICITY, head_name="李明")
    make_case(people, State.ASSESSED, head_name="王大山")  # not in publicity: not listed

    notice = issue_village_publicity(village=people.village_a, actor=people.handler)

    assert notice.doc_type == DocType.VILLAGE_PUBLICITY and notice.case is None
    assert "村公示字第0001号" in notice.number
    names = [row["name"] for row in notice.context["rows"]]
    assert names == ["张*国", "李*"] or names == ["李*", "张*国"]
    text = "".join(pdf_text(read_document(notice)).split())
    for shown in ("样例嘎查A社会救助审核确认公示", "张*", "李*"):
        assert shown in text, shown
    for hidden in ("张建国", "李明", "王大", first.applicant.id_number, second.applicant.id_number):
        assert hidden not in text, hidden
    assert first.events.filter(action="document_issued").exists()


def test_a_village_with_no_household_in_publicity_gets_no_list(people):
    make_case(people, State.ASSESSED)
    with pytest.raises(DomainError, match="没有处于公示期的家庭"):
        issue_village_publicity(village=people.village_a, actor=people.handler)
    assert not Document.objects.exists()


def test_only_the_villages_own_handler_posts_its_list(people):
    make_case(people, State.IN_PUBLICITY)
    for outsider in (people.outsider, people.direct, people.assistant):
        with pytest.raises(NotAllowed):
            issue_village_publicity(village=people.village_a, actor=outsider)
    assert not Document.objects.exists()


def test_the_handler_posts_it_from_the_village_publicity_page(people, login):
    make_case(people, State.IN_PUBLICITY)
    client = login(people.handler, Client())
    home = client.get("/home/").content.decode()
    assert "/documents/villages/publicity/" in home
    page = client.get("/documents/villages/publicity/").content.decode()
    assert "样例嘎查A" in page and "出具本周公示名单" in page
    response = client.post("/documents/villages/publicity/", {"village": people.village_a.pk})
    assert response.status_code == 302
    notice = Document.objects.get(doc_type=DocType.VILLAGE_PUBLICITY)
    assert notice.number in client.get("/documents/villages/publicity/").content.decode()
    assert client.get(f"/files/document/{notice.pk}/").status_code == 200
    outsider = login(people.outsider, Client())
    assert outsider.get(f"/files/document/{notice.pk}/").status_code == 404
