# SPDX-License-Identifier: Apache-2.0
"""Signing with a key held in a PKCS#11 token (an HSM, a smart card, SoftHSM2, a cloud KMS's PKCS#11
library), through PyKCS11 (`pip install 'spb[pkcs11]'`).

The key is named by an RFC 7512 URI:

    pkcs11:token=spb-release;object=firmware-signing         by token label and key label
    pkcs11:serial=1a2b3c;id=%01                              by token serial and key id (percent-encoded)
    pkcs11:token=spb;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin

Path attributes: token, serial, manufacturer, model, slot-id, object, id, type (only "private").
Query attributes: module-path (default: $SPB_PKCS11_MODULE) and pin-source (a file holding the PIN;
default: the PIN is $SPB_PKCS11_PIN). pin-value is refused: a command line is visible to every user of the
machine and lands in CI logs.

The public key comes from the token's public key object with the private key's id (or label); a token
that keeps none needs --public-key. The token signs with CKM_ECDSA over the SHA-256 digest: its nonces are
its own (random on SoftHSM2 and on most HSMs), so signatures differ between runs, and every one is checked
against the public key before use (spb.keys.KeySet.sign).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from ..errors import SpbError
from ..keys import public_key_from_raw, raw_public_key

ENV_MODULE = "SPB_PKCS11_MODULE"
ENV_PIN = "SPB_PKCS11_PIN"
P256_OID_DER = bytes.fromhex("06082a8648ce3d030107")
_PATH_ATTRIBUTES = ("token", "serial", "manufacturer", "model", "slot-id", "object", "id", "type")
_QUERY_ATTRIBUTES = ("module-path", "pin-source")


@dataclass(frozen=True)
class Pkcs11Uri:
    """The parts of an RFC 7512 URI spb uses."""

    text: str
    token: str | None = None
    serial: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    slot_id: int | None = None
    object: str | None = None
    id: bytes | None = None
    module_path: str | None = None
    pin_source: str | None = None

    @classmethod
    def parse(cls, text: str) -> Pkcs11Uri:
        if not text.startswith("pkcs11:"):
            raise SpbError(text, "not a PKCS#11 URI (pkcs11:token=LABEL;object=KEY)")
        path, _, query = text[len("pkcs11:") :].partition("?")
        values: dict[str, str | bytes] = {}
        for part, separator, known in ((path, ";", _PATH_ATTRIBUTES), (query, "&", _QUERY_ATTRIBUTES)):
            for item in filter(None, part.split(separator)):
                name, equals, value = item.partition("=")
                if name == "pin-value":
                    raise SpbError(
                        _redact(text),
                        f"refusing pin-value: a PIN on the command line is visible to every user and in CI logs; "
                        f"set {ENV_PIN} or use pin-source=FILE",
                    )
                if not equals:
                    raise SpbError(text, f"attribute {name!r} has no value (name=value)")
                if name.startswith("x-"):
                    continue  # vendor extensions (RFC 7512 section 2.3)
                if name not in known:
                    where = "path" if separator == ";" else "query"
                    raise SpbError(text, f"unknown {where} attribute {name!r} (spb knows: {', '.join(known)})")
                if name in values:
                    raise SpbError(text, f"attribute {name!r} given twice")
                values[name] = unquote_to_bytes(value) if name == "id" else unquote_to_bytes(value).decode()
        if values.get("type", "private") != "private":
            raise SpbError(text, f"type={values['type']!r}: the signer needs the private key (type=private)")
        if "object" not in values and "id" not in values:
            raise SpbError(text, "name the key: object=LABEL or id=%XX (its CKA_ID)")
        slot_id: int | None = None
        if "slot-id" in values:
            try:
                slot_id = int(str(values["slot-id"]), 10)
            except ValueError:
                raise SpbError(text, f"slot-id {values['slot-id']!r} is not a decimal number") from None

        def text_of(name: str) -> str | None:
            value = values.get(name)
            return value if isinstance(value, str) else None

        key_id = values.get("id")
        return cls(
            text=text,
            token=text_of("token"),
            serial=text_of("serial"),
            manufacturer=text_of("manufacturer"),
            model=text_of("model"),
            slot_id=slot_id,
            object=text_of("object"),
            id=key_id if isinstance(key_id, bytes) else None,
            module_path=text_of("module-path"),
            pin_source=text_of("pin-source"),
        )

    @property
    def name(self) -> str:
        """The URI without its query (no file paths of secrets in logs)."""
        return self.text.partition("?")[0]

    def module(self, environ: Mapping[str, str]) -> str:
        module = self.module_path or environ.get(ENV_MODULE, "")
        if not module:
            raise SpbError(
                self.name,
                f"no PKCS#11 module: set {ENV_MODULE} to the token's library (e.g. /usr/lib/softhsm/libsofthsm2.so) "
                "or add ?module-path=",
            )
        return module

    def pin(self, environ: Mapping[str, str]) -> str | None:
        if self.pin_source:
            source = self.pin_source[len("file:") :] if self.pin_source.startswith("file:") else self.pin_source
            try:
                return Path(source).read_text().rstrip("\r\n")
            except OSError as exc:
                raise SpbError(source, f"cannot read the PIN file (pin-source): {exc.strerror}") from None
        return environ.get(ENV_PIN)


def _redact(text: str) -> str:
    path, _, query = text.partition("?")
    kept = [item for item in query.split("&") if item and not item.startswith("pin-value=")]
    return path + ("?" + "&".join(kept) if kept else "")


def _pykcs11() -> Any:
    try:
        import PyKCS11
    except ImportError:
        raise SpbError(
            None, "PKCS#11 signing needs the PyKCS11 package: pip install 'spb[pkcs11]' (or pip install PyKCS11)"
        ) from None
    return PyKCS11


def _error(exc: Exception) -> str:
    return str(exc).strip() or type(exc).__name__


_LIBRARIES: dict[str, Any] = {}
_SIGNERS: dict[tuple[str, str, bytes | None, str | None], Pkcs11Signer] = {}
_LOCK = threading.Lock()


def _library(module: str) -> Any:
    """One loaded PyKCS11Lib per module path and process (C_Initialize happens once)."""
    library = _LIBRARIES.get(module)
    if library is None:
        if not Path(module).exists():
            raise SpbError(module, f"PKCS#11 module not found (set {ENV_MODULE} to the token's library)")
        P = _pykcs11()
        library = P.PyKCS11Lib()
        try:
            library.load(module)
        except P.PyKCS11Error as exc:
            raise SpbError(module, f"cannot load the PKCS#11 module ({_error(exc)})") from None
        _LIBRARIES[module] = library
    return library


def open_pkcs11(
    uri_text: str, public_key: bytes | None = None, environ: Mapping[str, str] | None = None
) -> Pkcs11Signer:
    """The signer for a URI, opened once per process (SCons signs many images with one session)."""
    env = os.environ if environ is None else environ
    uri = Pkcs11Uri.parse(uri_text)
    module = uri.module(env)
    pin = uri.pin(env)
    key = (uri_text, module, public_key, pin)
    with _LOCK:
        signer = _SIGNERS.get(key)
        if signer is None:
            signer = Pkcs11Signer(uri, module, pin, public_key)
            _SIGNERS[key] = signer
    return signer


@dataclass
class _Token:
    slot: int
    label: str
    serial: str
    login_required: bool
    protected_path: bool


class Pkcs11Signer:
    """A P-256 private key in a PKCS#11 token. Opens a session and reads the public key when created;
    logs in (with the PIN) at the first signature."""

    def __init__(self, uri: Pkcs11Uri, module: str, pin: str | None, public_key: bytes | None = None) -> None:
        self._P = _pykcs11()
        self.uri = uri
        self._pin = pin
        self._lock = threading.Lock()
        self._private: Any = None
        self._logged_in = False
        library = _library(module)
        self._token = self._find_token(library)
        try:
            self._session = library.openSession(self._token.slot, self._P.CKF_SERIAL_SESSION)
        except self._P.PyKCS11Error as exc:
            raise SpbError(self.name, f"cannot open a session ({_error(exc)})") from None
        self._public_key = self._read_public_key(public_key)

    @property
    def name(self) -> str:
        return self.uri.name

    @property
    def public_key(self) -> bytes:
        return self._public_key

    # -- lookup -------------------------------------------------------------------------------------
    def _find_token(self, library: Any) -> _Token:
        P = self._P
        try:
            tokens = []
            for slot in library.getSlotList(tokenPresent=True):
                info = library.getTokenInfo(slot)
                tokens.append(
                    (
                        _Token(
                            slot,
                            info.label.strip(),
                            info.serialNumber.strip(),
                            bool(info.flags & P.CKF_LOGIN_REQUIRED),
                            bool(info.flags & P.CKF_PROTECTED_AUTHENTICATION_PATH),
                        ),
                        info.manufacturerID.strip(),
                        info.model.strip(),
                    )
                )
        except P.PyKCS11Error as exc:
            raise SpbError(self.name, f"cannot list the tokens ({_error(exc)})") from None
        u = self.uri
        matches = [
            token
            for token, manufacturer, model in tokens
            if (u.token is None or token.label == u.token)
            and (u.serial is None or token.serial == u.serial)
            and (u.manufacturer is None or manufacturer == u.manufacturer)
            and (u.model is None or model == u.model)
            and (u.slot_id is None or token.slot == u.slot_id)
        ]
        if not matches:
            labels = ", ".join(sorted(repr(t.label) for t, _, _ in tokens if t.label)) or "none"
            raise SpbError(self.name, f"no such token (tokens present: {labels})")
        if len(matches) > 1:
            raise SpbError(self.name, f"{len(matches)} tokens match: add serial= or slot-id= to the URI")
        return matches[0]

    def _template(self, object_class: int) -> list[tuple[int, Any]]:
        P = self._P
        template: list[tuple[int, Any]] = [(P.CKA_CLASS, object_class), (P.CKA_KEY_TYPE, P.CKK_EC)]
        if self.uri.id is not None:
            template.append((P.CKA_ID, tuple(self.uri.id)))
        if self.uri.object is not None:
            template.append((P.CKA_LABEL, self.uri.object))
        return template

    def _find(self, template: list[tuple[int, Any]]) -> list[Any]:
        try:
            return list(self._session.findObjects(template))
        except self._P.PyKCS11Error as exc:
            raise SpbError(self.name, f"cannot search the token ({_error(exc)})") from None

    def _attributes(self, handle: Any, names: list[int]) -> list[Any]:
        try:
            return list(self._session.getAttributeValue(handle, names))
        except self._P.PyKCS11Error as exc:
            raise SpbError(self.name, f"cannot read the key's attributes ({_error(exc)})") from None

    def _read_public_key(self, given: bytes | None) -> bytes:
        P = self._P
        found = self._find(self._template(P.CKO_PUBLIC_KEY))
        if not found and self._token.login_required:
            self._login()  # a token may keep its public objects private
            found = self._find(self._template(P.CKO_PUBLIC_KEY))
        if len(found) > 1:
            raise SpbError(self.name, f"{len(found)} public keys match: name the key by id= too")
        if not found:
            if given is not None:
                return given
            if self._token.login_required and self._pin is None and not self._token.protected_path:
                raise SpbError(
                    self.name,
                    f"no public key object matches on the token (with {ENV_PIN} set, spb also looks "
                    "for the private key)",
                )
            self._login()
            if not self._find(self._template(P.CKO_PRIVATE_KEY)):
                raise SpbError(self.name, "no such key on the token (no EC public or private key object matches)")
            raise SpbError(
                self.name,
                "the token holds the private key but no public key object for it: give --public-key FILE "
                "(its public half) or import the public key into the token",
            )
        params, point = self._attributes(found[0], [P.CKA_EC_PARAMS, P.CKA_EC_POINT])
        if bytes(params) != P256_OID_DER:
            raise SpbError(self.name, f"not a P-256 key (CKA_EC_PARAMS {bytes(params).hex()})")
        raw = bytes(point)
        if len(raw) == 67 and raw[:2] == b"\x04\x41":  # DER OCTET STRING around 04||X||Y (the standard form)
            raw = raw[2:]
        if len(raw) != 65 or raw[0] != 4:
            raise SpbError(self.name, f"unexpected CKA_EC_POINT ({len(raw)} bytes)")
        try:
            return raw_public_key(public_key_from_raw(raw[1:]))
        except ValueError:
            raise SpbError(self.name, "the token's public key is not a point of P-256") from None

    def _login(self) -> None:
        if self._logged_in or not self._token.login_required:
            return
        P = self._P
        if self._pin is None and not self._token.protected_path:
            raise SpbError(
                self.name,
                f"the token needs a PIN: set {ENV_PIN} (or pin-source=FILE); never put it on the command line",
            )
        try:
            self._session.login(self._pin)
        except P.PyKCS11Error as exc:
            if exc.value != P.CKR_USER_ALREADY_LOGGED_IN:
                problem = "PIN rejected" if exc.value in (P.CKR_PIN_INCORRECT, P.CKR_PIN_INVALID) else "login failed"
                raise SpbError(self.name, f"{problem} ({_error(exc)})") from None
        self._logged_in = True

    def _private_key(self) -> Any:
        if self._private is None:
            self._login()
            P = self._P
            found = self._find(self._template(P.CKO_PRIVATE_KEY))
            if not found:
                raise SpbError(self.name, "no such EC private key on the token")
            if len(found) > 1:
                raise SpbError(self.name, f"{len(found)} private keys match: name the key by id= too")
            (params,) = self._attributes(found[0], [P.CKA_EC_PARAMS])
            if bytes(params) != P256_OID_DER:
                raise SpbError(self.name, f"not a P-256 key (CKA_EC_PARAMS {bytes(params).hex()})")
            self._private = found[0]
        return self._private

    # -- signing ------------------------------------------------------------------------------------
    def sign(self, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise ValueError("sign() takes a 32-byte SHA-256 digest")
        P = self._P
        with self._lock:  # one operation at a time on the session (SCons -j runs actions in threads)
            key = self._private_key()
            try:
                signature = bytes(self._session.sign(key, digest, P.Mechanism(P.CKM_ECDSA)))
            except P.PyKCS11Error as exc:
                raise SpbError(self.name, f"the token refused to sign ({_error(exc)})") from None
        if len(signature) != 64:
            raise SpbError(self.name, f"CKM_ECDSA returned {len(signature)} bytes, expected r||s of 64")
        return signature
