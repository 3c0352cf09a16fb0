from dengkou_aid.lib.masking import mask_account, mask_name, mask_phone


def test_a_two_character_name_keeps_the_surname():
    assert mask_name("张三") == "张*"


def test_a_three_character_name_keeps_first_and_last():
    assert mask_name("张小明") == "张*明"


def test_a_longer_name_masks_every_middle_character():
    assert mask_name("其木格巴雅尔") == "其****尔"


def test_a_one_character_or_empty_name_is_left_alone():
    assert mask_name("张") == "张"
    assert mask_name("") == ""
    assert mask_name(None) == ""


def test_account_keeps_the_last_four():
    assert mask_account("6228480012345671234") == "***************1234"
    assert mask_account("6228 4800 1234 1234") == "************1234"
    assert mask_account("123") == "***"


def test_phone_keeps_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138-1234-5678") == "138****5678"
    assert mask_phone("12345") == "*****"
