"""What a holder checks before presenting: the verifier is bound to refuse credentials that
bind another key or none, or that have expired, so ``vc-im present --check`` says so first."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from vc_im import _jose as jose
from vc_im.errors import InputError, KeyFileError, TokenError
from vc_im.keys import Key, key_from_jwk
from vc_im.times import as_now
from vc_im.times import seconds_to_rfc3339 as rfc3339


def check_presentable(key: Key, credentials: Sequence[str], *, now: float) -> None:
    """Raise :class:`~vc_im.errors.InputError` when a verifier is bound to refuse these
    credentials presented with ``key`` at ``now``, for a reason the holder can see: one binds
    another key or none (``holder_binding``), or it has expired.

    :func:`create_presentation` signs what it is given (a test of a verifier may need what
    it must refuse); callers that present for real check first (``vc-im present --check``).
    ``now`` is seconds since the epoch; a float is floored.
    """
    now = as_now(now)
    thumbprint = key.thumbprint()
    for number, token in enumerate(credentials, start=1):
        try:
            payload = jose.peek_unverified(token.strip()).payload
        except TokenError as exc:
            raise InputError(f"credential {number} is not a compact JWS: {exc.message}") from exc
        cnf = payload.get("cnf")
        bound: str | None = None
        if isinstance(cnf, dict) and isinstance(cnf.get("jwk"), dict):
            try:
                bound = key_from_jwk(cnf["jwk"], require="public").thumbprint()
            except KeyFileError as exc:
                raise InputError(f"credential {number} binds an unusable key: "
                                 f"{exc.message}") from exc
        elif isinstance(cnf, dict) and isinstance(cnf.get("jkt"), str):
            bound = cnf["jkt"]
        if bound is None:
            raise InputError(f"credential {number} binds no holder key (no cnf), so every "
                             "verifier refuses to accept it in a presentation.")
        if not hmac.compare_digest(bound, thumbprint):
            raise InputError(f"credential {number} binds the key {bound}, not the presenting "
                             f"key {thumbprint}; present it with the key it binds.")
        exp = payload.get("exp")
        if isinstance(exp, int) and not isinstance(exp, bool) and exp <= now:
            raise InputError(f"credential {number} expired at {rfc3339(exp)}; ask its issuer "
                             "for a new one.")
