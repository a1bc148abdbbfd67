"""Refusing before signing what every verifier refuses: :func:`check_presentable` looks at
the credentials a holder is about to present with its key (``vc-im present`` runs it unless
``--no-check``), reading only what the holder can see without the trust file.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from vc_im import _jose as jose
from vc_im._checks.presentation import is_user_credential
from vc_im.errors import InputError, KeyFileError, TokenError
from vc_im.keys import Key, key_from_jwk
from vc_im.times import as_now
from vc_im.times import seconds_to_rfc3339 as rfc3339


def check_presentable(key: Key, credentials: Sequence[str], *, now: float) -> None:
    """Raise :class:`~vc_im.errors.InputError` when a verifier is bound to refuse these
    credentials presented with ``key`` at ``now``, for a reason the holder can see: one binds
    another key or none (``holder_binding``), or it has expired.

    A presented parent (a user credential whose bound key signed another presented
    credential) is bound through that signature, not through ``key``, as the verifier's
    cascade rule has it; only its expiry is checked here.

    :func:`~vc_im._checks.presentation.create_presentation` signs what it is given (a test
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
