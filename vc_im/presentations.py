"""Verifiable presentations: a device presents its credentials to one verifier, for one nonce.

:func:`create_presentation` signs a presentation with the holder's key (VC Data Model 1.1
``vp`` claim, or 2.0 ``vp+jwt`` with enveloped credentials); :func:`verify_presentation`
reports every check, with one nested report per embedded credential, under the IM
presentation rules or, for W3C presentations the verifier allows, the ``w3c`` ones.
:func:`present_document` signs a presentation document as it is, under the ``w3c`` profile
(a holder's presentation of any credentials, no device credential required).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vc_im import _jose as jose
from vc_im._checks import (
    DEFAULT_LIFETIME,
    MAX_CREDENTIALS,
    PRESENTATION_STEPS,
    check_presentable,
    create_presentation,
    verify_presentation,
    without_jwts,
)
from vc_im.errors import InputError
from vc_im.keys import Key
from vc_im.model import Presentation

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_CREDENTIALS",
    "PRESENTATION_STEPS",
    "Presentation",
    "check_presentable",
    "create_presentation",
    "present_document",
    "verify_presentation",
]


def present_document(key: Key, document: Mapping[str, Any], *, now: int,
                     encoding: str = "vc1", audience: str | None = None,
                     nonce: str | None = None, valid_for: int = DEFAULT_LIFETIME) -> str:
    """Sign a presentation document as it is, after the ``w3c`` profile's checks; return the
    JWT.

    The document must keep the VC Data Model (:func:`vc_im.vcdm.check_presentation`), name
    its ``holder``, start with the encoding's W3C base context, use pinned contexts only and
    expand losslessly. ``vc1``: a VC DM 1.1 JWT, the document in ``vp``, ``iss`` its holder,
    ``jti`` its id, and ``iat``/``nbf``/``exp`` (``valid_for``) with ``aud`` and ``nonce``
    when given; ``vc2``: the document itself as a ``vp+jwt``, with ``iat`` and ``exp`` added
    unless it has one of them (audience and nonce, if wanted, belong in the document). The
    header carries the public ``jwk``; a did:key or did:jwk holder must name ``key``. Raises
    :class:`~vc_im.errors.InputError` with the first problem.
    """
    from vc_im import _linked, vcdm
    from vc_im.profiles import W3C

    if not key.is_private:
        raise InputError("presenting needs the holder's private key; this key is public only.")
    if not isinstance(document, Mapping):
        raise InputError("the presentation document must be a JSON object.")
    if encoding not in ("vc1", "vc2"):
        raise InputError(f"unknown presentation format {encoding!r}; use vc1 or vc2.")
    version = 1 if encoding == "vc1" else 2
    violations = vcdm.check_presentation(document, version=version)
    if violations:
        first = violations[0]
        raise InputError(f"refusing to present an invalid presentation under the profile "
                         f"w3c: {first.path or '$'}: {first.message.rstrip('.')} (data-model "
                         f"rule {first.rule}).")
    holder = document.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if not isinstance(holder_id, str):
        raise InputError("refusing to present: the presentation names no holder (a URI, or an "
                         "object with an id).")
    base = _linked.V1_CONTEXT if version == 1 else _linked.V2_CONTEXT
    contexts = document.get("@context")
    loader = W3C.loader()
    if not isinstance(contexts, list) or not contexts or contexts[0] != base or not all(
            isinstance(url, str) and url in loader.urls for url in contexts):
        raise InputError(f"refusing to present: the @context must start with {base} and name "
                         "only contexts vc_im holds pinned (nothing is fetched).")
    try:
        _linked.expand_checked(without_jwts(document), allowed_types=None, loader=loader)
    except _linked.JsonLdRejected as exc:
        raise InputError(f"refusing to present (context_rejected): {exc.message}") from exc
    _holder_names(key, holder_id)
    if not 0 < valid_for <= 600:
        raise InputError("a presentation's lifetime must be between 1 and 600 s.")
    # The header carries the public key: a verifier has no other way to a holder's key
    # unless the holder is a did:key or did:jwk.
    header = {"alg": key.alg, "kid": key.kid, "jwk": key.header_jwk()}
    if version == 2:
        if audience is not None or nonce is not None:
            raise InputError("--format vc2 signs the document itself: put the audience and "
                             "nonce in the document.")
        payload = dict(document)
        if "iat" not in payload and "exp" not in payload:  # a presentation is short-lived
            payload.update(iat=now, exp=now + valid_for)
        return jose.sign({**header, "typ": "vp+jwt"}, payload, key)
    claims: dict[str, Any] = {"iss": holder_id, "iat": now, "nbf": now, "exp": now + valid_for}
    if isinstance(document.get("id"), str):
        claims["jti"] = document["id"]
    if audience is not None:
        claims["aud"] = audience
    if nonce is not None:
        claims["nonce"] = nonce
    claims["vp"] = dict(document)
    return jose.sign({**header, "typ": "JWT"}, claims, key)


def _holder_names(key: Key, holder: str) -> None:
    """A holder that is a did:key or did:jwk names its key: it must be the signing one."""
    if not holder.startswith(("did:key:", "did:jwk:")):
        return
    from vc_im.errors import KeyFileError
    from vc_im.keys import resolve_did

    try:
        named = resolve_did(holder)
    except KeyFileError as exc:
        raise InputError(f"refusing to present: the holder {holder[:80]}: {exc.message}") from exc
    if named.thumbprint() != key.thumbprint():
        raise InputError(f"refusing to present: the holder {holder[:80]} names another key "
                         "than the signing one, so every verifier would refuse it.")
