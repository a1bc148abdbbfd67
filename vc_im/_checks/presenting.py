"""Presenting: what a holder signs for a verifier, and the holder's own check first.

The verifier's rules live in :mod:`vc_im._checks.presentation`; this module only builds
the tokens those rules judge, and :func:`check_presentable` refuses, before signing, what
every verifier would refuse for a reason the holder can see.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from typing import Any

from vc_im import _jose as jose
from vc_im._checks.common import subject_of
from vc_im._checks.presentation import (
    DEFAULT_LIFETIME,
    ENVELOPE_PREFIX,
    MAX_CREDENTIALS,
    MAX_LIFETIME,
    is_user_credential,
)
from vc_im._linked import V1_CONTEXT, V2_CONTEXT, VCIM_CONTEXT
from vc_im.errors import InputError, KeyFileError, TokenError
from vc_im.keys import Key, key_from_jwk
from vc_im.model import CredentialType
from vc_im.times import as_now
from vc_im.times import seconds_to_rfc3339 as rfc3339

__all__ = ["check_presentable", "create_presentation"]


def _device_subject(tokens: Sequence[str]) -> str:
    for token in tokens:
        try:
            unverified = jose.peek_unverified(token)
        except TokenError as exc:
            raise InputError(f"a --credential is not a compact JWS: {exc.message}") from exc
        payload = unverified.payload
        body = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
        types = body.get("type") if isinstance(body, dict) else None
        if isinstance(types, list) and CredentialType.DEVICE.value in types:
            subject = subject_of(payload)
            if isinstance(subject, str):
                return subject
    raise InputError("a presentation needs an ImDeviceCredential: its subject, the device, is "
                     "the presentation's holder (iss).")


def check_presentable(key: Key, credentials: Sequence[str], *, now: float) -> None:
    """Raise :class:`~vc_im.errors.InputError` when a verifier is bound to refuse these
    credentials presented with ``key`` at ``now``, for a reason the holder can see: one binds
    another key or none (``holder_binding``), or it has expired.

    A presented parent (a user credential whose bound key signed another presented
    credential) is bound through that signature, not through ``key``, as the verifier's
    cascade rule has it; only its expiry is checked here.

    :func:`create_presentation` signs what it is given (a test
    of a verifier may need what it must refuse); callers that present for real check first
    (``vc-im present`` does, unless ``--no-check``).
    ``now`` is seconds since the epoch; a float is floored.
    """
    now = as_now(now)
    thumbprint = key.thumbprint()
    parsed: list[jose.Unverified] = []
    for number, token in enumerate(credentials, start=1):
        try:
            parsed.append(jose.peek_unverified(token.strip()))
        except TokenError as exc:
            raise InputError(f"credential {number} is not a compact JWS: {exc.message}") from exc
    for number, unverified in enumerate(parsed, start=1):
        payload = unverified.payload
        cnf = payload.get("cnf")
        bound: str | None = None
        bound_key: Key | None = None
        if isinstance(cnf, dict) and isinstance(cnf.get("jwk"), dict):
            try:
                bound_key = key_from_jwk(cnf["jwk"], require="public")
            except KeyFileError as exc:
                raise InputError(f"credential {number} binds an unusable key: "
                                 f"{exc.message}") from exc
            bound = bound_key.thumbprint()
        elif isinstance(cnf, dict) and isinstance(cnf.get("jkt"), str):
            bound = cnf["jkt"]
        if bound is None:
            raise InputError(f"credential {number} binds no holder key (no cnf), so every "
                             "verifier refuses to accept it in a presentation.")
        parent = (bound_key is not None and is_user_credential(unverified)
                  and any(other is not unverified and jose.verify_signature(other, bound_key)
                          for other in parsed))
        if not parent and not hmac.compare_digest(bound, thumbprint):
            raise InputError(f"credential {number} binds the key {bound}, not the presenting "
                             f"key {thumbprint}; present it with the key it binds.")
        exp = payload.get("exp")
        if isinstance(exp, int) and not isinstance(exp, bool) and exp <= now:
            raise InputError(f"credential {number} expired at {rfc3339(exp)}; ask its issuer "
                             "for a new one.")


def create_presentation(key: Key, credentials: Sequence[str], *, audience: str, nonce: str,
                        now: float, valid_for: int = DEFAULT_LIFETIME,
                        encoding: str = "vc1") -> str:
    """Sign a presentation of ``credentials`` for one ``audience`` and ``nonce``.

    The holder (``iss``) is the subject of the first device credential. Whether
    the credentials bind ``key`` is for the verifier to judge. Raises
    :class:`~vc_im.errors.InputError` for unusable input.

    ``now`` is seconds since the epoch; a float is floored (:func:`vc_im.times.as_now`).
    """
    now = as_now(now)
    if not key.is_private:
        raise InputError("presenting needs the holder's private key; this key is public only.")
    if not credentials:
        raise InputError("a presentation needs at least one credential.")
    if len(credentials) > MAX_CREDENTIALS:
        raise InputError(f"a presentation holds at most {MAX_CREDENTIALS} credentials.")
    if not audience or not nonce:
        raise InputError("a presentation needs a non-empty audience and nonce.")
    if not 0 < valid_for <= MAX_LIFETIME:
        raise InputError(f"a presentation's lifetime must be between 1 and {MAX_LIFETIME} s.")
    tokens = [token.strip() for token in credentials]
    holder = _device_subject(tokens)
    claims: dict[str, Any] = {"iss": holder, "aud": audience, "nonce": nonce,
                              "jti": f"urn:uuid:{uuid.uuid4()}", "iat": now, "nbf": now,
                              "exp": now + valid_for}
    header = {"alg": key.alg, "kid": key.thumbprint(), "jwk": key.header_jwk()}
    if encoding == "vc1":
        header["typ"] = "JWT"
        claims["vp"] = {"@context": [V1_CONTEXT], "type": ["VerifiablePresentation"],
                        "verifiableCredential": tokens}
        return jose.sign(header, claims, key)
    if encoding != "vc2":
        raise InputError(f"unknown presentation format {encoding!r}; use vc1 or vc2.")
    for token in tokens:
        try:
            typ = jose.peek_unverified(token).header.get("typ")
        except TokenError as exc:
            raise InputError(f"a --credential is not a compact JWS: {exc.message}") from exc
        if typ != "vc+jwt":
            raise InputError("--format vc2 presents VC Data Model 2.0 credentials only "
                             "(typ vc+jwt); issue them with --format vc2.")
    header["typ"] = "vp+jwt"
    payload = {"@context": [V2_CONTEXT, VCIM_CONTEXT], "type": ["VerifiablePresentation"],
               "holder": holder,
               "verifiableCredential": [
                   {"@context": [V2_CONTEXT], "type": ["EnvelopedVerifiableCredential"],
                    "id": ENVELOPE_PREFIX + token} for token in tokens],
               **claims}
    del payload["nbf"]  # VC-JOSE-COSE: nbf is NOT RECOMMENDED
    return jose.sign(header, payload, key)
