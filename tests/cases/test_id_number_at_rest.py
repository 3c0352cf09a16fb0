"""ID numbers are stored encrypted: the raw table shows no plaintext, lookups go by keyed hash."""

from django.db import connection

from cases import services
from cases.models import Kind, Person
from dengkou_aid.lib.crypto import keyed_hash

from ..factories import unique_id_number


def test_an_id_number_is_encrypted_at_rest_and_found_by_its_keyed_hash(people):
    number = unique_id_number()
    services.file_application(
        actor=people.handler,
        kind=Kind.DIBAO,
        village=people.village_a,
        area="rural",
        members=[{"name": "张明东", "id_number": number, "illness": "慢性肾病"}],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_hash, illness FROM cases_person")
        rows = cursor.fetchall()
    dump = repr(rows)
    assert number not in dump and number[-8:] not in dump
    assert "慢性肾病" not in dump
    assert rows[0][1] == keyed_hash(number)
    assert Person.objects.get(id_hash=keyed_hash(number)).id_number == number
