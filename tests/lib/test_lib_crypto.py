import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import FieldError

from dengkou_aid.lib.crypto import EncryptedCharField, decrypt, encrypt, keyed_hash

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    settings.FIELD_HASH_KEY = "test-hash-key"
    return old, new


def test_encrypt_round_trips_and_hides_the_plaintext(keys):
    token = encrypt(ID_NUMBER)
    assert ID_NUMBER not in token
    assert decrypt(token) == ID_NUMBER


def test_encrypting_twice_gives_different_tokens(keys):
    assert encrypt(ID_NUMBER) != encrypt(ID_NUMBER)


def test_old_tokens_still_decrypt_after_a_new_key_is_put_first(keys, settings):
    old, new = keys
    token = encrypt(ID_NUMBER)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert decrypt(token) == ID_NUMBER
    settings.FIELD_ENCRYPTION_KEYS = [new]
    with pytest.raises(InvalidToken):
        decrypt(token)


def test_new_tokens_use_the_first_key(keys, settings):
    old, new = keys
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    token = encrypt(ID_NUMBER)
    assert Fernet(new).decrypt(token.encode()).decode() == ID_NUMBER


def test_keyed_hash_is_stable_and_ignores_case_and_spaces(keys):
    assert keyed_hash(ID_NUMBER) == keyed_hash(" 11010519491231002x ")
    assert len(keyed_hash(ID_NUMBER)) == 64
    assert keyed_hash(ID_NUMBER) != keyed_hash("110105194912310037")


def test_keyed_hash_depends_on_the_key(keys, settings):
    first = keyed_hash(ID_NUMBER)
    settings.FIELD_HASH_KEY = b"another-key"
    assert keyed_hash(ID_NUMBER) != first


def test_the_field_stores_ciphertext_and_reads_plaintext(keys):
    field = EncryptedCharField("公民身份号码")
    stored = field.get_prep_value(ID_NUMBER)
    assert stored != ID_NUMBER
    assert ID_NUMBER not in stored
    assert field.from_db_value(stored, None, None) == ID_NUMBER


def test_the_field_passes_none_and_empty_through(keys):
    field = EncryptedCharField(null=True, blank=True)
    assert field.get_prep_value(None) is None
    assert field.from_db_value(None, None, None) is None
    assert field.get_prep_value("") == ""
    assert field.from_db_value("", None, None) == ""


def test_the_field_reads_rows_written_before_a_key_rotation(keys, settings):
    old, new = keys
    field = EncryptedCharField()
    stored = field.get_prep_value(ID_NUMBER)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert field.from_db_value(stored, None, None) == ID_NUMBER


def test_the_field_deconstructs_for_migrations():
    field = EncryptedCharField("公民身份号码", blank=True, default="")
    _name, path, args, kwargs = field.deconstruct()
    assert path == "dengkou_aid.lib.crypto.EncryptedCharField"
    assert args == []
    assert kwargs == {"verbose_name": "公民身份号码", "blank": True, "default": ""}
    assert isinstance(EncryptedCharField(*args, **kwargs), EncryptedCharField)


def test_the_field_refuses_content_lookups_but_allows_isnull():
    field = EncryptedCharField()
    field.name = "id_number"
    assert field.get_lookup("isnull") is not None
    with pytest.raises(FieldError, match="keyed_hash"):
        field.get_lookup("exact")
