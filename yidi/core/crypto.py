"""Field encryption: one interface (`FieldCipher`), two algorithms, a key ring that supports rotation.

Rules (security-requirements.md CRY-02, CRY-05, CRY-08; design in docs/crypto.md):
- A token is `enc:v1:<provider>:<key_id>:<base64url(nonce | ciphertext | tag)>`, with a random 96-bit nonce
  per value. It names its algorithm and key, so old tokens stay readable after a switch of algorithm or key.
- Providers: `aes-gcm` (AES-256-GCM, the default) and `sm4-gcm` (SM4-GCM, 国密), chosen by `FIELD_CIPHER`.
- The caller's `context` (model label + field name) and the token header are the associated data: a token
  copied into another column, or with an edited header, fails to decrypt.
- Keys: `FIELD_ENCRYPTION_KEYS` is an ordered mapping key_id → 32 random bytes; the first key encrypts, all
  keys decrypt. Each provider uses its own sub-key derived with HKDF (SHA-256 for AES, SM3 for SM4), so the
  same key-ring entry never serves two algorithms. Without the setting, a development key is derived from
  `SECRET_KEY` under key id `dev` (development only: see `check_field_encryption_keys`).
- Key material comes only through a `KeyProvider` (`FIELD_KEY_PROVIDER`, a dotted path), so a hardware key
  store can replace the settings-based ring.
- Errors never contain a plaintext, a token or key material.
"""

import base64
import binascii
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

TOKEN_PREFIX = "enc:"
TOKEN_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
DEFAULT_PROVIDER = "aes-gcm"
DEFAULT_KEY_PROVIDER = "yidi.core.crypto.SettingsKeyProvider"
DEVELOPMENT_KEY_ID = "dev"
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_CACHED_SETTINGS = {"FIELD_CIPHER", "FIELD_ENCRYPTION_KEYS", "FIELD_KEY_PROVIDER", "SECRET_KEY"}


class CryptoError(Exception):
    """Base class of field-encryption errors."""


class UnknownKeyError(CryptoError):
    def __init__(self, key_id: str):
        self.key_id = key_id
        super().__init__(f"key {key_id!r} is not in the field-encryption key ring")


class DecryptionError(CryptoError):
    """A token could not be decrypted. The message names the column and key, never the value."""

    def __init__(self, *, context: bytes, key_id: str = "", provider: str = "", reason: str):
        self.context = context.decode("utf-8", "replace")
        self.key_id = key_id
        self.provider = provider
        key = f" with key {key_id!r} ({provider})" if key_id else ""
        super().__init__(f"cannot decrypt {self.context}{key}: {reason}")


class KeyRingError(ImproperlyConfigured):
    """A key-ring string (`YIDI_FIELD_KEYS`) is malformed. The message never contains key material."""


# --- key ring -----------------------------------------------------------------------------------------


def parse_key_ring(text: str) -> dict[str, bytes]:
    """Parse `id1:base64key,id2:base64key` (commas or new lines) into an ordered key_id → key mapping.

    - The first entry is the active key (new writes); the others only decrypt.
    - Each key is standard base64 of exactly 32 random bytes (`openssl rand -base64 32`).
    - Key ids are 1-32 characters of letters, digits, `_`, `.`, `-`, starting with a letter or digit; unique.
    """
    ring: dict[str, bytes] = {}
    entries = [entry.strip() for entry in re.split(r"[,\n]", text) if entry.strip()]
    if not entries:
        raise KeyRingError("the field-encryption key ring is empty: expected `key_id:base64key[,…]`")
    for position, entry in enumerate(entries, start=1):
        key_id, separator, encoded = entry.partition(":")
        key_id, encoded = key_id.strip(), encoded.strip()
        if not separator:
            raise KeyRingError(f"key-ring entry {position} has no `:`; expected `key_id:base64key`")
        if not _KEY_ID.match(key_id):  # not echoed: a swapped entry would put the key here
            raise KeyRingError(
                f"key-ring entry {position}: the key id is invalid "
                "(1-32 letters, digits, `_`, `.` or `-`, starting with a letter or digit; `key_id:base64key`)"
            )
        if key_id in ring:
            raise KeyRingError(f"key-ring entry {position}: key id {key_id!r} appears twice")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyRingError(
                f"key-ring entry {position} (key id {key_id!r}): the key is not valid base64"
            ) from None
        if len(key) != KEY_BYTES:
            raise KeyRingError(
                f"key-ring entry {position} (key id {key_id!r}): the key is {len(key)} bytes, expected {KEY_BYTES}"
            )
        ring[key_id] = key
    return ring


def format_key_ring(ring: dict[str, bytes]) -> str:
    """The inverse of `parse_key_ring` (for scripts that build a key ring, and the tests)."""
    return ",".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in ring.items())


def new_key() -> str:
    """A fresh base64 key for the key ring."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


class KeyProvider(Protocol):
    """Where key-ring keys come from. A hardware key store (HSM/KMS) implements this by unwrapping data keys.

    `get_key` returns the 32-byte key-ring key for `key_id` or raises `UnknownKeyError`.
    """

    def active_key_id(self) -> str: ...

    def get_key(self, key_id: str) -> bytes: ...


class StaticKeyProvider:
    """A key ring held in memory: the first key is active."""

    def __init__(self, ring: dict[str, bytes]):
        if not ring:
            raise KeyRingError("the field-encryption key ring is empty")
        for position, (key_id, key) in enumerate(ring.items(), start=1):
            if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
                raise KeyRingError(f"key-ring entry {position}: the key id is invalid")
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise KeyRingError(
                    f"key-ring entry {position} (key id {key_id!r}): expected {KEY_BYTES} bytes"
                )
        self._ring = dict(ring)
        self._active = next(iter(self._ring))

    def active_key_id(self) -> str:
        return self._active

    def get_key(self, key_id: str) -> bytes:
        try:
            return self._ring[key_id]
        except KeyError:
            raise UnknownKeyError(key_id) from None


def development_key(secret_key: str) -> bytes:
    """The development-only key: HKDF-SHA256 of SECRET_KEY. Never use it for real personal data."""
    return HKDF(hashes.SHA256(), KEY_BYTES, salt=b"yidi-field-encryption", info=b"development key").derive(
        secret_key.encode()
    )


class SettingsKeyProvider(StaticKeyProvider):
    """`settings.FIELD_ENCRYPTION_KEYS`, or the development key `dev` derived from SECRET_KEY when unset."""

    def __init__(self):
        ring = getattr(settings, "FIELD_ENCRYPTION_KEYS", None)
        if isinstance(ring, str):
            ring = parse_key_ring(ring)
        super().__init__(ring or {DEVELOPMENT_KEY_ID: development_key(settings.SECRET_KEY)})


# --- algorithms ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Algorithm:
    """One AEAD algorithm: `seal`/`open_` take a derived key, a 96-bit nonce and associated data."""

    name: str
    derive: Callable[[bytes], bytes]
    seal: Callable[[bytes, bytes, bytes, bytes], bytes]  # (key, nonce, plaintext, aad) -> ciphertext|tag
    open_: Callable[[bytes, bytes, bytes, bytes], bytes]  # raises InvalidTag


def _hkdf(hash_algorithm: hashes.HashAlgorithm, length: int, info: bytes) -> Callable[[bytes], bytes]:
    return lambda key: HKDF(hash_algorithm, length, salt=None, info=info).derive(key)


def _aes_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def _aes_open(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(nonce, data, aad)


def _sm4_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return ciphertext + encryptor.tag


def _sm4_open(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if len(data) < TAG_BYTES:
        raise InvalidTag
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(data[:-TAG_BYTES]) + decryptor.finalize()


ALGORITHMS = {
    "aes-gcm": Algorithm(
        "aes-gcm", _hkdf(hashes.SHA256(), 32, b"yidi:field:v1:aes-gcm"), _aes_seal, _aes_open
    ),
    "sm4-gcm": Algorithm("sm4-gcm", _hkdf(hashes.SM3(), 16, b"yidi:field:v1:sm4-gcm"), _sm4_seal, _sm4_open),
}


# --- the cipher ---------------------------------------------------------------------------------------


class FieldCipher(Protocol):
    """Encrypts one text value for one column (`context`); `decrypt` raises `DecryptionError`."""

    def encrypt(self, plaintext: str, *, context: bytes) -> str: ...

    def decrypt(self, token: str, *, context: bytes) -> str: ...


def is_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


def token_header(provider: str, key_id: str) -> str:
    """The token prefix written by `provider` under `key_id` (the rotation command looks for it)."""
    return f"{TOKEN_PREFIX}{TOKEN_VERSION}:{provider}:{key_id}:"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyRingCipher:
    """The `FieldCipher` over a `KeyProvider`: encrypts with `provider` under the active key.

    Decryption follows the token's own provider and key id, so tokens written before a change of
    `FIELD_CIPHER` or of the active key stay readable until `rotate_field_keys` rewrites them.
    """

    def __init__(self, provider: str, keys: KeyProvider):
        if provider not in ALGORITHMS:
            raise ImproperlyConfigured(
                f"FIELD_CIPHER={provider!r} is unknown; use one of {sorted(ALGORITHMS)}"
            )
        self.provider = provider
        self.keys = keys
        self._derived: dict[tuple[str, str], bytes] = {}

    @property
    def active_header(self) -> str:
        return token_header(self.provider, self.keys.active_key_id())

    def encrypt(self, plaintext: str, *, context: bytes) -> str:
        algorithm = ALGORITHMS[self.provider]
        key_id = self.keys.active_key_id()
        header = token_header(self.provider, key_id)
        key = self._key(algorithm, key_id)
        nonce = os.urandom(NONCE_BYTES)
        sealed = algorithm.seal(key, nonce, plaintext.encode("utf-8"), header.encode("ascii") + context)
        return header + _b64encode(nonce + sealed)

    def decrypt(self, token: str, *, context: bytes) -> str:
        parts = token.split(":", 4)
        if len(parts) != 5 or f"{parts[0]}:" != TOKEN_PREFIX:
            raise DecryptionError(context=context, reason="the value is not an encryption token")
        _, version, provider, key_id, body = parts
        if version != TOKEN_VERSION:
            raise DecryptionError(context=context, reason=f"unknown token version {version[:8]!r}")
        algorithm = ALGORITHMS.get(provider)
        if algorithm is None:
            raise DecryptionError(context=context, reason=f"unknown provider {provider[:16]!r}")
        try:
            key = self._key(algorithm, key_id)
        except UnknownKeyError:
            raise DecryptionError(
                context=context,
                key_id=key_id[:40],
                provider=provider,
                reason="this key is not in the key ring",
            ) from None
        try:
            data = _b64decode(body)
        except (binascii.Error, ValueError):
            data = b""
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(
                context=context, key_id=key_id, provider=provider, reason="the token is truncated"
            )
        aad = token_header(provider, key_id).encode("ascii") + context
        try:
            plaintext = algorithm.open_(key, data[:NONCE_BYTES], data[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionError(
                context=context,
                key_id=key_id,
                provider=provider,
                reason="authentication failed (wrong key, value moved from another column, or tampered)",
            ) from None
        return plaintext.decode("utf-8")

    def _key(self, algorithm: Algorithm, key_id: str) -> bytes:
        cached = self._derived.get((algorithm.name, key_id))
        if cached is None:
            cached = self._derived[(algorithm.name, key_id)] = algorithm.derive(self.keys.get_key(key_id))
        return cached


@functools.cache
def get_field_cipher() -> KeyRingCipher:
    """The configured cipher (cached; the cache is cleared when a test overrides a field-encryption setting)."""
    provider = getattr(settings, "FIELD_CIPHER", DEFAULT_PROVIDER)
    key_provider = import_string(getattr(settings, "FIELD_KEY_PROVIDER", DEFAULT_KEY_PROVIDER))
    return KeyRingCipher(provider, key_provider())


@receiver(setting_changed)
def _clear_cipher_cache(*, setting: str, **kwargs) -> None:
    if setting in _CACHED_SETTINGS:
        get_field_cipher.cache_clear()


def uses_development_key() -> bool:
    return get_field_cipher().keys.active_key_id() == DEVELOPMENT_KEY_ID


# --- known-answer self-test (CRY-06) -----------------------------------------------------------------

# RFC 8998 appendix A.1 (SM4-GCM) and GB/T 32905 (SM3("abc")).
_SM4_GCM_VECTOR = {
    "key": "0123456789abcdeffedcba9876543210",
    "nonce": "00001234567800000000abcd",
    "aad": "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    "plaintext": "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
    "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa",
    "sealed": "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
    "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
    "83de3541e4c2b58177e065a9bf7b62ec",
}
_SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def self_test(provider: str) -> None:
    """Raise `CryptoError` unless `provider` works in this build (some OpenSSL builds lack SM3/SM4)."""
    try:
        if provider == "sm4-gcm":
            vector = {name: bytes.fromhex(value) for name, value in _SM4_GCM_VECTOR.items()}
            sealed = _sm4_seal(vector["key"], vector["nonce"], vector["plaintext"], vector["aad"])
            digest = hashes.Hash(hashes.SM3())
            digest.update(b"abc")
            if sealed != vector["sealed"] or digest.finalize().hex() != _SM3_ABC:
                raise CryptoError("SM4-GCM/SM3 known-answer test failed")
        cipher = KeyRingCipher(provider, StaticKeyProvider({"selftest": bytes(range(KEY_BYTES))}))
        token = cipher.encrypt("330681198003150017", context=b"self.test")
        if cipher.decrypt(token, context=b"self.test") != "330681198003150017":
            raise CryptoError(f"{provider} round trip failed")
    except (UnsupportedAlgorithm, InvalidTag, ValueError) as error:
        raise CryptoError(
            f"{provider} is not available in this cryptography/OpenSSL build: {error}"
        ) from None
