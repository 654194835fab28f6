"""Encryption at rest and keyed hashes for addresses (A5) and codes (A7)."""
import base64
import hashlib
import hmac
import json
import os
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, purpose: bytes) -> bytes:
    # One secret in the environment, separate keys per purpose, so that a
    # hash key never doubles as an encryption key.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"svar", info=purpose).derive(secret.encode())


class Vault:
    """Encrypts addresses and conversation state; hashes addresses and codes."""

    def __init__(self, secret: str):
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"encrypt")))
        # Keyed once; each hash copies the keyed state (half the cost of hmac.new: uploads hash 100,000).
        self._address_mac = hmac.new(_derive(secret, b"address-hmac"), digestmod=hashlib.sha256)
        self._code_mac = hmac.new(_derive(secret, b"code-hmac"), digestmod=hashlib.sha256)
        self._code_cipher = AESGCM(_derive(secret, b"code-encrypt"))

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def encrypt_json(self, value) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    def decrypt_json(self, token: str):
        return json.loads(self.decrypt(token))

    def address_hash(self, channel: str, address: str) -> str:
        """Keyed hash of a normalised address: lookups and opt-outs without the number."""
        mac = self._address_mac.copy()
        mac.update(f"{channel}:{address}".encode())
        return mac.hexdigest()

    def code_hash(self, code: str) -> str:
        """Keyed hash of a normalised one-time code; the code itself is never stored."""
        mac = self._code_mac.copy()
        mac.update(code.encode())
        return mac.hexdigest()

    def encrypt_codes(self, pairs) -> list[str]:
        """Encrypt (invitation id, code) pairs for reminders to repeat; each token opens only for its invitation."""
        # AES-GCM with one key object: a launch encrypts 100,000 codes, and a Fernet
        # token costs ~20 us (a cipher context and an HMAC each), this ~3 us. A random
        # 96-bit nonce per code is safe far beyond the codes one key will ever see.
        # The invitation id is authenticated with it, so a token copied to another
        # invitation's row (to have its reminder sent elsewhere) does not decrypt.
        pairs = list(pairs)
        nonces = os.urandom(_NONCE * len(pairs))
        encrypt = self._code_cipher.encrypt
        tokens = []
        for index, (invitation_id, code) in enumerate(pairs):
            nonce = nonces[_NONCE * index : _NONCE * (index + 1)]
            sealed = encrypt(nonce, code.encode(), str(invitation_id).encode())
            tokens.append(base64.urlsafe_b64encode(nonce + sealed).decode())
        return tokens

    def decrypt_code(self, invitation_id: int, token: str) -> str:
        """The code of `invitation_id` sealed by encrypt_codes; raises InvalidTag or ValueError if it is not that."""
        raw = base64.urlsafe_b64decode(token.encode())
        return self._code_cipher.decrypt(raw[:_NONCE], raw[_NONCE:], str(invitation_id).encode()).decode()


# AES-GCM's standard nonce length.
_NONCE = 12


@lru_cache(maxsize=8)
def vault_for(secret: str) -> Vault:
    """One Vault per key: key derivation is deliberately not free."""
    return Vault(secret)
