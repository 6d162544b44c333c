# SPDX-License-Identifier: Apache-2.0
"""The detached two-step flow, for signers spb cannot call: an air-gapped machine, a cloud KMS.

1. Run the command (spb sign / patch / combine) with `--signer detached --public-key PUB`: it writes the
   SHA-256 digest of every header to sign, 32 raw bytes each (`OUT.digest`, or `OUT.1.digest`,
   `OUT.2.digest`, ... when there are several), and no output file.
2. Sign each digest as a prehashed ECDSA P-256 digest (AWS KMS: --message-type DIGEST; Google Cloud KMS:
   --digest-file; openssl pkeyutl -sign), then run the same command again with `--signature FILE` for each
   signature, raw r||s (64 bytes) or DER, in any order. Every signature is checked against PUB and the
   digest the command computes itself; the output is written only when every header has a valid one.

The digests do not depend on the signer (the IVs are derived from the AES key and the image), so both runs
compute the same ones. A valid signature already in an input (the NEW .sfb of `spb patch`) is reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..errors import SpbError, StrPath
from ..keys import verify_digest

NAME = "detached"


def read_signature(path: StrPath) -> list[bytes]:
    """The raw r||s readings of a signature file: raw 64 bytes, or DER (a 64-byte file may be either:
    both readings are kept, the digest check picks)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpbError(path, "signature file not found") from None
    except OSError as exc:
        raise SpbError(path, f"cannot read the signature ({exc.strerror})") from None
    readings: list[bytes] = []
    if len(data) == 64:
        readings.append(data)
    try:
        r, s = decode_dss_signature(data)
    except ValueError:
        pass
    else:
        if 0 < r < 1 << 256 and 0 < s < 1 << 256:
            readings.append(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    if not readings:
        raise SpbError(path, f"not an ECDSA P-256 signature: {len(data)} bytes, neither raw r||s (64 bytes) nor DER")
    return readings


class DetachedSigner:
    """Returns the given signatures that verify over the digests asked for; records the others (pending)
    and returns a placeholder for them, so the caller can list every digest of a command in one run."""

    def __init__(self, public_key: bytes, public_key_path: str, signatures: Sequence[StrPath] = ()) -> None:
        self._public_key = public_key
        self.public_key_path = public_key_path
        self.signature_files = [str(p) for p in signatures]
        self._given = [(str(p), read_signature(p)) for p in signatures]
        self._known: dict[bytes, bytes] = {}
        self.used: set[str] = set()
        self.pending: list[bytes] = []

    @property
    def name(self) -> str:
        return NAME

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def offer(self, digest: bytes, signature: bytes) -> None:
        """A signature found in an input file (kept only if it verifies)."""
        if verify_digest(self._public_key, digest, signature):
            self._known.setdefault(digest, signature)

    def sign(self, digest: bytes) -> bytes:
        for path, readings in self._given:
            for signature in readings:
                if verify_digest(self._public_key, digest, signature):
                    self.used.add(path)
                    return signature
        if digest in self._known:
            return self._known[digest]
        if digest not in self.pending:
            self.pending.append(digest)
        return bytes(64)

    def unused(self) -> list[str]:
        return [path for path, _ in self._given if path not in self.used]


def digest_paths(output: StrPath, count: int) -> list[Path]:
    """Where step 1 writes the digests of `output`: OUT.digest, or OUT.1.digest ... OUT.N.digest."""
    output = Path(output)
    if count == 1:
        return [output.with_name(output.name + ".digest")]
    return [output.with_name(f"{output.name}.{i}.digest") for i in range(1, count + 1)]


def finish(signer: DetachedSigner, output: StrPath) -> list[Path]:
    """After a command computed its output with this signer: the digest files written (step 1, the
    output must not be written), or [] when every header is signed (step 2, write the output). Raises
    SpbError, writing nothing, when signatures were given but some do not fit."""
    unused = signer.unused()
    if unused:
        raise SpbError(
            unused[0],
            f"does not verify over any digest this command signs with the public key {signer.public_key_path} "
            "(a signature of another image, version or key?)",
        )
    if not signer.pending:
        return []
    if signer.signature_files:
        missing = ", ".join(d.hex() for d in signer.pending)
        raise SpbError(
            None,
            f"{len(signer.pending)} digest(s) still unsigned ({missing}): run without --signature to write them",
        )
    paths = digest_paths(output, len(signer.pending))
    for path, digest in zip(paths, signer.pending):
        path.write_bytes(digest)
    return paths
