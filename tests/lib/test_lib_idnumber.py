from datetime import date

import pytest

from dengkou_aid.lib.idnumber import (
    InvalidIdNumber,
    birth_date_from_id,
    check_char,
    make_id_number,
    mask_id_number,
    sex_from_id,
    validate_id_number,
)

# The example printed in GB 11643-1999 itself; its check character is X.
STANDARD_EXAMPLE = "11010519491231002X"


def test_it_accepts_the_example_from_the_standard():
    assert validate_id_number(STANDARD_EXAMPLE) == STANDARD_EXAMPLE


def test_it_upper_cases_the_check_x_and_strips_spaces():
    assert validate_id_number(" 11010519491231002x ") == STANDARD_EXAMPLE


def test_it_computes_the_iso_7064_check_character():
    assert check_char("11010519491231002") == "X"
    assert check_char("15082219800101000") == make_id_number(seq=0, sex="F")[-1]


@pytest.mark.parametrize("value", ["", "1501", "11010519491231002X0", "11010519491231002"])
def test_it_refuses_a_wrong_length(value):
    with pytest.raises(InvalidIdNumber, match="长度不是18位"):
        validate_id_number(value)


def test_it_refuses_letters_in_the_first_17_characters():
    with pytest.raises(InvalidIdNumber, match="前17位必须是数字"):
        validate_id_number("1101051949123100AX")


def test_it_refuses_full_width_digits():
    with pytest.raises(InvalidIdNumber, match="前17位必须是数字"):
        validate_id_number("１１0105194912310021")


def test_it_refuses_a_check_character_other_than_a_digit_or_x():
    with pytest.raises(InvalidIdNumber, match="末位只能是数字或X"):
        validate_id_number("11010519491231002Y")


def test_it_refuses_a_wrong_check_character():
    with pytest.raises(InvalidIdNumber, match="校验位错误"):
        validate_id_number("110105194912310021")


@pytest.mark.parametrize("birth", ["19490230", "19491301", "18991231"])
def test_it_refuses_an_impossible_birth_date(birth):
    first17 = f"110105{birth}002"
    with pytest.raises(InvalidIdNumber, match="出生日期无效"):
        validate_id_number(first17 + check_char(first17))


def test_it_refuses_a_birth_date_in_the_future():
    value = make_id_number(birth=date(2026, 11, 28))
    with pytest.raises(InvalidIdNumber, match="出生日期无效"):
        validate_id_number(value, today=date(2026, 11, 27))
    assert validate_id_number(value, today=date(2026, 11, 28)) == value


def test_the_error_is_a_value_error():
    assert issubclass(InvalidIdNumber, ValueError)


def test_it_reads_birth_date_and_sex():
    assert birth_date_from_id(STANDARD_EXAMPLE) == date(1949, 12, 31)
    assert sex_from_id(STANDARD_EXAMPLE) == "F"  # 17th digit 2 is even
    assert sex_from_id("110105194912310037"[:17] + check_char("11010519491231003")) == "M"


def test_make_id_number_builds_valid_numbers_for_each_sex():
    male = make_id_number(region="150822", birth=date(1975, 6, 30), seq=7, sex="M")
    female = make_id_number(region="150822", birth=date(1975, 6, 30), seq=7, sex="F")
    assert male.startswith("15082219750630")
    assert validate_id_number(male) == male
    assert validate_id_number(female) == female
    assert (sex_from_id(male), sex_from_id(female)) == ("M", "F")
    assert male != female


def test_make_id_number_gives_distinct_numbers_for_distinct_sequences():
    numbers = {make_id_number(seq=seq, sex=sex) for seq in range(500) for sex in "MF"}
    assert len(numbers) == 1000


def test_make_id_number_refuses_bad_arguments():
    with pytest.raises(ValueError):
        make_id_number(seq=500)
    with pytest.raises(ValueError):
        make_id_number(region="15082")
    with pytest.raises(ValueError):
        make_id_number(sex="X")


def test_mask_keeps_first_four_and_last_four():
    assert mask_id_number("150822198001011234") == "1508**********1234"
    assert mask_id_number("") == ""
