"""The consent form of a case signed on the tablet shows the drawn signatures (seen by rendering
the PDF page to pixels) and the hash of the text the signers were shown."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from cases import services
from cases.documents.services import issue_document, read_document
from cases.models import Case, DocType
from cases.tablet.models import GlassSignature
from dengkou_aid.lib.pdfcheck import pdf_text

from ..conftest import service_missing
from ..factories import unique_id_number
from .conftest import application_draft


def blue_pixels(pdf: bytes) -> int:
    """Pixels of the first page that are clearly blue (the test's ink), at 100 dpi."""
    if shutil.which("pdftoppm") is None:
        service_missing("pdftoppm")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "consent.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "100",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                source,
                source.with_suffix(""),
            ],
            check=True,
        )
        image = Image.open(source.with_suffix(".png")).convert("RGB")
    data = image.tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if b > 150 and r < 100 and g < 100)


@pytest.mark.django_db
def test_the_consent_form_shows_the_signatures_drawn_on_the_tablet(people, tablet):
    draft = application_draft(people.village_a, ink="blue")
    assert (
        tablet(people.assistant).post_draft("/tablet/api/applications/", draft).status_code == 200
    )
    case = services.accept(actor=people.handler, case=Case.objects.get())

    pdf = read_document(
        issue_document(case=case, doc_type=DocType.CONSENT_FORM, actor=people.handler)
    )

    assert blue_pixels(pdf) > 200  # two blue scrawls, drawn from the stored images
    text = "".join(pdf_text(pdf).split())
    signature = GlassSignature.objects.get(person_name="张三")
    assert signature.text_hash == hashlib.sha256(signature.document_text.encode()).hexdigest()
    assert signature.text_hash in text
    assert "平板现场签字记录" in text and "见证协理员" in text
    assert "".join(signature.document_text.split()) in text


@pytest.mark.django_db
def test_a_consent_form_filed_at_the_unit_has_no_drawn_ink_and_no_tablet_record(people):
    case = services.file_application(
        actor=people.handler,
        kind="dibao",
        village=people.village_a,
        area="rural",
        members=[{"name": "王五", "id_number": unique_id_number(), "relation": "head"}],
    )
    case = services.accept(actor=people.handler, case=case)
    pdf = read_document(
        issue_document(case=case, doc_type=DocType.CONSENT_FORM, actor=people.handler)
    )
    assert blue_pixels(pdf) == 0
    assert "平板现场签字记录" not in "".join(pdf_text(pdf).split())
