# SPDX-License-Identifier: Apache-2.0
"""Signing backends besides a key file (docs/keys.md). Each is a `spb.keys.Signer`: a name for logs, the
64-byte public key, and sign(digest) -> 64-byte r||s.

    pkcs11:token=LABEL;object=KEY   a key in a PKCS#11 token (an HSM, a smart card, SoftHSM, a cloud KMS's
                                    PKCS#11 library): spb.signing.pkcs11. The module comes from
                                    SPB_PKCS11_MODULE (or module-path=), the PIN from SPB_PKCS11_PIN (or
                                    pin-source=), never from the command line.
    detached                        signatures made elsewhere (an air-gapped machine, a cloud KMS): the
                                    first run writes the digests to sign, the second takes the signatures
                                    back and checks them: spb.signing.detached.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import SpbError
from ..keys import Signer

SCHEMES = ("pkcs11:", "detached")


def open_signer(
    spec: str, public_key: bytes | None = None, public_key_path: str | None = None, signatures: Sequence[str] = ()
) -> Signer:
    """The signer a backend spec names. `public_key` (from --public-key) is what the detached flow checks
    signatures with, and what a PKCS#11 signer uses when its token holds no public key object."""
    if spec.startswith("pkcs11:"):
        from .pkcs11 import open_pkcs11

        return open_pkcs11(spec, public_key)
    if spec == "detached":
        from .detached import DetachedSigner

        if public_key is None or public_key_path is None:
            raise SpbError(
                None, "--signer detached needs --public-key FILE (the public half of the key: `spb keys export`)"
            )
        return DetachedSigner(public_key, public_key_path, signatures)
    raise SpbError(
        spec,
        "unknown signer: use pkcs11:token=LABEL;object=KEY or detached "
        "(a key file goes to --signing-key / SIGNING_KEY=)",
    )
