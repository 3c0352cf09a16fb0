from datetime import date
from decimal import Decimal

import pytest

from dengkou_aid.lib.bulk import copy_rows


class Cursor:
    """Records what copy_rows sends, as psycopg2's copy_expert would read it."""

    def __init__(self):
        self.sent = []

    def copy_expert(self, sql, file):
        self.sent.append((sql, file.read()))


def test_none_travels_as_null_and_an_empty_string_as_itself():
    cursor = Cursor()

    count = copy_rows(cursor, "t", ("a", "b", "c"), [(None, "", 1)])

    assert count == 1
    sql, text = cursor.sent[0]
    assert "FORMAT csv" in sql and "NULL '\\N'" in sql
    assert text == "\\N,,1\n"


def test_text_with_separators_and_quotes_is_quoted_whole():
    cursor = Cursor()

    copy_rows(
        cursor,
        "t",
        ("a", "b", "c", "d"),
        [('李"四,\t五\n', date(2024, 3, 1), Decimal("800.00"), True)],
    )

    assert cursor.sent[0][1] == '"李""四,\t五\n",2024-03-01,800.00,True\n'


def test_the_null_marker_itself_is_refused_rather_than_written_as_null():
    with pytest.raises(ValueError):
        copy_rows(Cursor(), "t", ("a",), [("\\N",)])


def test_no_rows_send_nothing():
    cursor = Cursor()

    assert copy_rows(cursor, "t", ("a",), iter(())) == 0
    assert cursor.sent == []
