"""Field encryption without the database: both providers, tokens, context binding, key ring, rotation."""

import base64
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from yidi.core.crypto import (
    DecryptionError,
    KeyRingCipher,
    KeyRingError,
    StaticKeyProvider,
    development_key,
    format_key_ring,
    get_field_cipher,
    parse_key_ring,
    self_test,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
ID_NUMBER = "330681198003150017"
CONTEXT = b"cases.Person.id_number"
PROVIDERS = ["aes-gcm", "sm4-gcm"]


def cipher(provider="aes-gcm", ring=None) -> KeyRingCipher:
    return KeyRingCipher(provider, StaticKeyProvider(ring or {"a": KEY_A}))


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_value_round_trips_through_each_provider(provider):
    token = cipher(provider).encrypt(ID_NUMBER, context=CONTEXT)

    assert token.startswith(f"enc:v1:{provider}:a:")
    assert ID_NUMBER not in token
    assert cipher(provider).decrypt(token, context=CONTEXT) == ID_NUMBER


@pytest.mark.parametrize("provider", PROVIDERS)
def test_chinese_and_empty_text_round_trip(provider):
    for value in ["诸暨市枫桥镇枫源村3组18号", ""]:
        assert (
            cipher(provider).decrypt(cipher(provider).encrypt(value, context=CONTEXT), context=CONTEXT)
            == value
        )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_same_value_encrypts_to_a_different_token_each_time(provider):
    first = cipher(provider).encrypt(ID_NUMBER, context=CONTEXT)
    second = cipher(provider).encrypt(ID_NUMBER, context=CONTEXT)

    assert first != second
    assert first.split(":")[4][:16] != second.split(":")[4][:16]  # a fresh 96-bit nonce (16 base64 chars)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tampered_token_fails_to_decrypt(provider):
    token = cipher(provider).encrypt(ID_NUMBER, context=CONTEXT)
    header, body = token.rsplit(":", 1)
    flipped = header + ":" + body[:20] + ("A" if body[20] != "A" else "B") + body[21:]

    with pytest.raises(DecryptionError, match="authentication failed"):
        cipher(provider).decrypt(flipped, context=CONTEXT)


def test_token_with_an_edited_header_fails_to_decrypt():
    token = cipher("aes-gcm", {"a": KEY_A, "b": KEY_A}).encrypt(ID_NUMBER, context=CONTEXT)

    with pytest.raises(DecryptionError, match="authentication failed"):
        cipher("aes-gcm", {"a": KEY_A, "b": KEY_A}).decrypt(token.replace(":a:", ":b:"), context=CONTEXT)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_token_moved_to_another_column_fails_and_the_error_names_column_and_key_but_not_the_value(provider):
    token = cipher(provider).encrypt(ID_NUMBER, context=CONTEXT)

    with pytest.raises(DecryptionError) as error:
        cipher(provider).decrypt(token, context=b"cases.Person.phone")

    message = str(error.value)
    assert message.startswith(f"cannot decrypt cases.Person.phone with key 'a' ({provider}):")
    assert ID_NUMBER not in message and token not in message
    assert (error.value.context, error.value.key_id, error.value.provider) == (
        "cases.Person.phone",
        "a",
        provider,
    )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("enc:v1:aes-gcm:a", "not an encryption token"),
        ("enc:v9:aes-gcm:a:AAAA", "unknown token version"),
        ("enc:v1:des:a:AAAA", "unknown provider"),
        ("enc:v1:aes-gcm:gone:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "key 'gone'"),
        ("enc:v1:aes-gcm:a:AAAA", "truncated"),
        ("enc:v1:aes-gcm:a:!!!!", "truncated"),
    ],
)
def test_malformed_tokens_raise_decryption_error(token, reason):
    with pytest.raises(DecryptionError, match=reason):
        cipher().decrypt(token, context=CONTEXT)


def test_token_under_an_older_key_still_decrypts_and_new_writes_use_the_new_key():
    old_token = cipher("aes-gcm", {"a": KEY_A}).encrypt(ID_NUMBER, context=CONTEXT)
    rotated = cipher("aes-gcm", {"b": KEY_B, "a": KEY_A})

    assert rotated.decrypt(old_token, context=CONTEXT) == ID_NUMBER
    assert rotated.encrypt(ID_NUMBER, context=CONTEXT).startswith("enc:v1:aes-gcm:b:")
    with pytest.raises(DecryptionError, match=r"key 'a' .* not in the key ring"):
        cipher("aes-gcm", {"b": KEY_B}).decrypt(old_token, context=CONTEXT)


def test_token_keeps_its_provider_after_the_configured_provider_changes():
    aes_token = cipher("aes-gcm").encrypt(ID_NUMBER, context=CONTEXT)

    assert cipher("sm4-gcm").decrypt(aes_token, context=CONTEXT) == ID_NUMBER


def test_providers_use_separate_sub_keys_of_the_same_key_ring_entry():
    aes_token = cipher("aes-gcm").encrypt(ID_NUMBER, context=CONTEXT)
    forged = aes_token.replace(":aes-gcm:", ":sm4-gcm:")

    with pytest.raises(DecryptionError, match="authentication failed"):
        cipher("sm4-gcm").decrypt(forged, context=CONTEXT)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_known_answer_self_test_passes_in_this_build(provider):
    self_test(provider)  # RFC 8998 A.1 SM4-GCM vector and SM3("abc") for sm4-gcm


def test_key_ring_parses_in_order_with_commas_or_new_lines():
    text = f" k2026:{b64(KEY_B)},\nk2025:{b64(KEY_A)}\n"

    ring = parse_key_ring(text)

    assert list(ring) == ["k2026", "k2025"]
    assert ring == {"k2026": KEY_B, "k2025": KEY_A}
    assert parse_key_ring(format_key_ring(ring)) == ring


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "key ring is empty"),
        (" , ", "key ring is empty"),
        (f"k1{b64(KEY_A)}", "entry 1 has no `:`"),
        (f"k1:{b64(KEY_A)},k2:not*base64", "entry 2 (key id 'k2'): the key is not valid base64"),
        (f"k1:{b64(KEY_A[:16])}", "entry 1 (key id 'k1'): the key is 16 bytes, expected 32"),
        (f"k1:{b64(KEY_A)},k1:{b64(KEY_B)}", "entry 2: key id 'k1' appears twice"),
        (f"bad id:{b64(KEY_A)}", "entry 1: the key id is invalid"),
        (f":{b64(KEY_A)}", "entry 1: the key id is invalid"),
        (f"{b64(KEY_A)}:k1", "entry 1: the key id is invalid"),  # swapped: the key is not echoed
    ],
)
def test_bad_key_ring_gives_a_clear_error_without_key_material(text, message):
    with pytest.raises(KeyRingError) as error:
        parse_key_ring(text)

    assert message in str(error.value)
    assert b64(KEY_A) not in str(error.value) and b64(KEY_B) not in str(error.value)
    assert isinstance(error.value, ImproperlyConfigured)


@pytest.mark.parametrize(
    ("ring", "message"),
    [
        ({}, "key ring is empty"),
        ({"k1": KEY_A[:16]}, "entry 1 (key id 'k1'): expected 32 bytes"),
        ({"k1": KEY_A, b64(KEY_B): KEY_B}, "entry 2: the key id is invalid"),
    ],
)
def test_key_ring_mapping_from_settings_is_checked(ring, message):
    with pytest.raises(KeyRingError, match=re.escape(message)):
        StaticKeyProvider(ring)


@override_settings(SECRET_KEY="s" * 50, FIELD_ENCRYPTION_KEYS=None)
def test_without_a_key_ring_the_development_key_derived_from_secret_key_is_used():
    cipher_from_settings = get_field_cipher()

    assert cipher_from_settings.keys.active_key_id() == "dev"
    assert cipher_from_settings.keys.get_key("dev") == development_key("s" * 50)
    assert cipher_from_settings.encrypt(ID_NUMBER, context=CONTEXT).startswith("enc:v1:aes-gcm:dev:")


@override_settings(FIELD_CIPHER="sm4-gcm", FIELD_ENCRYPTION_KEYS={"k2": KEY_B, "k1": KEY_A})
def test_settings_choose_the_provider_and_the_active_key():
    assert get_field_cipher().encrypt(ID_NUMBER, context=CONTEXT).startswith("enc:v1:sm4-gcm:k2:")


@override_settings(FIELD_ENCRYPTION_KEYS=f"k1:{b64(KEY_A)}")
def test_key_ring_setting_may_be_the_environment_string():
    assert get_field_cipher().keys.get_key("k1") == KEY_A


@override_settings(FIELD_CIPHER="des-ecb")
def test_unknown_provider_setting_is_refused():
    with pytest.raises(ImproperlyConfigured, match="FIELD_CIPHER='des-ecb' is unknown"):
        get_field_cipher()
