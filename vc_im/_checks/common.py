"""What the checks of every token kind share: strict parsing, header allow-lists, the
algorithm allow-list, NumericDates and choosing a key by ``kid``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vc_im import _jose as jose
from vc_im import identifiers
from vc_im.identifiers import IdentifierError, ImId
from vc_im.keys import Key
from vc_im.report import CheckFailed
from vc_im.times import DEFAULT_LEEWAY as DEFAULT_LEEWAY  # one default for every token kind
from vc_im.times import numeric_date_problem

if TYPE_CHECKING:
    from vc_im.replay import ReplayBackend, ReplayOutcome, StoreLike

#: The largest leeway a verifier may be given (the CLI's bound): replay records outlive it.
MAX_LEEWAY = 86400


class ParsedToken:
    """What the checks of every token kind share: the token and, once ``format`` ran, its parts.

    A mixin for the per-kind state dataclasses, which declare the two fields.
    """

    token: str | bytes | jose.Unverified | jose.Parts
    #: The token's parts once ``format`` ran; for the issuer's pre-sign checks, the parts of
    #: what it is about to sign.
    unverified: jose.Unverified | jose.Parts | None

    @property
    def payload(self) -> Mapping[str, Any]:
        """The token's payload (parsed by ``format``; not verified before ``signature``)."""
        assert self.unverified is not None
        return self.unverified.payload

    @property
    def header(self) -> Mapping[str, Any]:
        """The token's JOSE header (parsed by ``format``)."""
        assert self.unverified is not None
        return self.unverified.header


def check_format(state: ParsedToken) -> str:
    """One compact JWS with strict JSON header and payload (taken apart once: a caller that
    already did hands in the parts)."""
    token = state.token
    if isinstance(token, jose.Parts):
        raise CheckFailed("malformed", "there is no token to parse: these parts are unsigned")
    state.unverified = (token if isinstance(token, jose.Unverified)
                        else jose.peek_unverified(token))
    return "a compact JWS whose header and payload are strict JSON objects"


def check_header_names(header: Mapping[str, Any], allowed: frozenset[str],
                       refused: Mapping[str, str], what: str) -> None:
    """The header names only ``allowed`` parameters (an allow-list); a parameter ``refused``
    names gets its own reason, any other the list of what ``what`` may carry."""
    for name in header:
        if name in allowed:
            continue
        if name in refused:
            raise CheckFailed("bad_header", f"the header parameter {name!r} is refused: "
                              f"{refused[name]}")
        raise CheckFailed("bad_header", f"the header parameter {name!r} is not one {what} may "
                          f"carry ({', '.join(sorted(allowed, key=_HEADER_ORDER.index))})")


_HEADER_ORDER = ("alg", "typ", "kid", "jwk", "cty", "x5c")


def check_alg(state: ParsedToken) -> str:
    """An allow-listed asymmetric algorithm; never ``none`` or a MAC."""
    alg = state.header.get("alg")
    if not isinstance(alg, str):
        raise CheckFailed("unsupported_alg", "the header has no alg")
    if alg == "none":
        raise CheckFailed("unsupported_alg", "alg none (an unsigned token) is never accepted")
    if alg.startswith("HS"):
        raise CheckFailed("unsupported_alg", f"{alg} is a shared-secret MAC; credentials must "
                          "be signed with an issuer's private key")
    if alg not in jose.VERIFY_ALGORITHMS:
        raise CheckFailed("unsupported_alg", f"alg {alg!r} is not one of "
                          f"{', '.join(sorted(jose.VERIFY_ALGORITHMS))}")
    return f"the algorithm {alg} is allowed"


def issuer_of(payload: Mapping[str, Any]) -> Any:
    """The issuer a payload names: ``iss``, else a VC 2.0 ``issuer`` (a string or ``{id}``)."""
    if "iss" in payload:
        return payload["iss"]
    issuer = payload.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def subject_of(payload: Mapping[str, Any]) -> Any:
    """The subject a payload names: ``sub``, else the credential's ``credentialSubject.id``
    (in a VC 2.0 payload, or in a VC 1.1 ``vc`` claim)."""
    if "sub" in payload:
        return payload["sub"]
    body = payload["vc"] if isinstance(payload.get("vc"), dict) else payload
    subject = body.get("credentialSubject")
    return subject.get("id") if isinstance(subject, dict) else None


def maybe_identifier(value: Any) -> ImId | None:
    try:
        return identifiers.parse(value) if isinstance(value, str) else None
    except IdentifierError:
        return None


def select_key(keys: Sequence[Key], header: Mapping[str, Any], *, owner: str) -> Key:
    """The key a header names by ``kid`` (or the only candidate); it must accept the alg."""
    alg = header.get("alg")
    kid = header.get("kid")
    if kid is not None:
        found = [key for key in keys if key.kid == kid]
        if not found:
            raise CheckFailed("unknown_key", f"{owner} has no key with kid {kid!r}")
        key = found[0]
    else:
        candidates = [key for key in keys if isinstance(alg, str) and key.accepts(alg)]
        if len(candidates) != 1:
            raise CheckFailed("unknown_key", f"the header names no kid and {owner} has "
                              f"{len(candidates)} keys for {alg}")
        key = candidates[0]
    if not isinstance(alg, str) or not key.accepts(alg):
        raise CheckFailed("unsupported_alg", f"the key {key.kid!r} verifies only {key.alg} "
                          f"signatures, not {alg}")
    return key


def numeric_date(payload: Mapping[str, Any], claim: str, *, required: bool) -> int | None:
    """A NumericDate claim in whole seconds, explaining the seed's millisecond mistake."""
    if claim not in payload:
        if required:
            raise CheckFailed("missing_claim", f"the {claim!r} claim is missing")
        return None
    value = payload[claim]
    problem = numeric_date_problem(claim, value)
    if problem is not None:
        raise CheckFailed("malformed", problem, f"$.{claim}")
    return int(value)


def refuse_high_s(unverified: jose.Unverified, key: Key) -> None:
    """After a signature failed: say so precisely when only its high S was refused."""
    if jose.refused_high_s(unverified, key):
        raise CheckFailed("bad_signature", "the ES256K signature's S value is in the upper half "
                          "of the curve order (the malleable twin of a low-S signature); vc_im "
                          "refuses high-S secp256k1 signatures")


def consume(store: StoreLike | None, decide: Callable[[ReplayBackend], ReplayOutcome],
            ) -> ReplayOutcome:
    """Record a token in the replay store and return the store's verdict; a store that
    cannot be reached fails the check closed (unrecorded means not accepted)."""
    import vc_im.replay as replay  # not "from": a package's "from" import costs a call

    try:
        with replay.opened(store) as backend:
            return decide(backend)
    except replay.StoreUnavailable as exc:
        raise CheckFailed("store_unavailable", exc.message) from exc
