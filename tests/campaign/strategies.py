"""Hypothesis strategies: hostile credentials, presentations, DPoP proofs and statements,
each signed with a real key.

A case starts from a token vc_im itself issued (:mod:`campaign.world`), applies zero to a
few mutations to its header and claims (:mod:`campaign.mutate`), re-signs the result with
the right key (or deliberately another, or corrupts the signature), may re-serialise it
in a hostile way, and picks the verifier's arguments (time, leeway, audience, nonce, the
request of a DPoP proof). Zero mutations keep valid tokens in the mix, so acceptance is
exercised as much as refusal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from vc_im import _jose as jose
from vc_im import create_presentation, create_proof
from vc_im.errors import InputError, TokenError
from vc_im.trust.statements import create_statement

from . import mutate
from . import world as w
from .sign import dumps, sign_segments

#: Verifier times around the base tokens' NOW (issued then, valid 90 days).
NOW_OFFSETS = [0, 0, 0, 1, 30, -59, -61, 299, 361, 599, 601, 90 * w.DAY - 59, 90 * w.DAY + 61,
               -w.DAY, 10**9]
LEEWAYS = [60, 60, 60, 60, 0, 1, 300, 3600, 86400]
SIGNERS = ["device", "device_es256k", "attacker", "issuer", "issuer_es256", "other_issuer",
           "b1", "carol", "alice_master"]


@dataclass
class Case:
    """One token to verify and the verifier's arguments, with how it was made."""

    token: str | bytes
    now: int
    leeway: int
    notes: list[str] = field(default_factory=list)
    audience: str | None = None
    nonce: str | None = None
    replay: bool = False
    # DPoP only
    htm: str = w.HTM
    htu: str = w.HTU
    access_token: str | None = None
    credential: str | None = None

    def describe(self) -> str:
        lines = [*self.notes, f"now=NOW{self.now - w.NOW:+d} leeway={self.leeway} "
                 f"audience={self.audience!r} nonce={self.nonce!r}"]
        token = self.token.decode("ascii", "replace") if isinstance(self.token, bytes) \
            else self.token
        try:
            parts = token.strip().split(".")
            lines.append("header: " + jose.b64url_decode(parts[0], what="h").decode())
            lines.append("payload: " + jose.b64url_decode(parts[1], what="p").decode()[:3000])
        except Exception:
            lines.append(f"token: {token[:300]!r}")
        return "\n".join(lines)


def split(token: str) -> mutate.Doc:
    """A valid token's header and payload as fresh dicts (read back from its own bytes)."""
    header, payload, _ = token.split(".")
    return {"header": json.loads(jose.b64url_decode(header, what="h")),
            "payload": json.loads(jose.b64url_decode(payload, what="p"))}


def _inject_duplicate(data: bytes, name: str, value: Any) -> bytes:
    """The same object with ``name`` written twice (first the injected value)."""
    member = json.dumps({name: value}, separators=(",", ":")).encode()[1:-1]
    if data.strip() in (b"{}", b""):
        return data
    return b"{" + member + b"," + data.lstrip()[1:]


@st.composite
def signed(draw: st.DrawFn, doc: mutate.Doc, signer: str, notes: list[str]) -> str | bytes:
    """Sign ``doc``: mostly with ``signer``, sometimes with the key its header's jwk names,
    another key, or a corrupted signature; then maybe re-serialise the compact form."""
    ring = w.keyring()
    modes = ["header-jwk", "other", "corrupt"]
    if isinstance(doc["header"].get("jwk"), dict):
        modes.append("own key in jwk")  # impersonation: a key of one's own, named in the header
    mode = "right" if not mutate.rarely(draw, 15) else draw(st.sampled_from(modes))
    key = ring[signer]
    if mode == "own key in jwk":
        key = ring[draw(st.sampled_from(SIGNERS))]
        doc["header"]["jwk"] = key.header_jwk()
        if "kid" in doc["header"]:
            doc["header"]["kid"] = key.thumbprint()
    elif mode == "header-jwk":
        jwk = doc["header"].get("jwk")
        if isinstance(jwk, dict):
            for candidate in ring.by_name.values():
                if all(candidate.header_jwk().get(m) == jwk.get(m) for m in ("kty", "crv", "x",
                                                                              "y", "n", "e")):
                    key = candidate
    elif mode == "other":
        key = ring[draw(st.sampled_from(SIGNERS))]
    style = "compact" if not mutate.rarely(draw, 15) else draw(st.sampled_from(["spaced", "ascii"]))
    header, payload = dumps(doc["header"], style), dumps(doc["payload"], style)
    duplicate = None if not mutate.rarely(draw, 8) else draw(st.sampled_from(["header", "payload"]))
    if duplicate is not None and isinstance(doc[duplicate], dict) and doc[duplicate]:
        name = draw(st.sampled_from(sorted(doc[duplicate])))
        value = draw(st.sampled_from([doc[duplicate][name], None, "none", w.ISSUER, w.NOW]))
        if duplicate == "header":
            header = _inject_duplicate(header, name, value)
        else:
            payload = _inject_duplicate(payload, name, value)
        notes.append(f"duplicate {duplicate} member {name!r} = {value!r:.60}")
    token = sign_segments(header, payload, key)
    if mode == "corrupt":
        head, sig = token.rsplit(".", 1)
        raw = bytearray(jose.b64url_decode(sig, what="s"))
        raw[draw(st.integers(0, len(raw) - 1))] ^= 1 << draw(st.integers(0, 7))
        token = head + "." + jose.b64url_encode(bytes(raw))
    encoding = draw(mutate.encoding_strategy())
    notes.append(f"signed: {mode} ({key.alg} {key.kid[:16]}), {style} JSON, {encoding}")
    return mutate.ENCODINGS[encoding](token)


def _extra_values(draw: st.DrawFn, bases: tuple[w.Base, ...]) -> list[Any]:
    """Values from another base token: what a holder could copy from a credential it has."""
    other = split(draw(st.sampled_from(bases)).token)
    return [value for part in other.values() for value in part.values()]


@st.composite
def credential_case(draw: st.DrawFn, models: bool = False) -> Case:
    """A credential: a base from the world, mutated, signed, and a verifier's arguments."""
    bases = w.models_credentials() if models else w.central_credentials()
    base = draw(st.sampled_from(bases))
    doc = split(base.token)
    notes = [f"base: {base.label}"]
    notes += draw(mutate.edits(doc, _extra_values(draw, bases)))
    token = draw(signed(doc, base.signer, notes))
    case = Case(token, w.NOW, 60, notes)
    wrong = mutate.pick(draw, None, ["presentation expected", "time", "leeway"], 40)
    if wrong == "presentation expected":
        case.audience, case.nonce = draw(st.sampled_from([(w.VERIFIER, w.NONCE),
                                                          (w.VERIFIER, None), (None, w.NONCE)]))
    elif wrong == "time":
        case.now += draw(st.sampled_from(NOW_OFFSETS))
    elif wrong == "leeway":
        case.leeway = draw(st.sampled_from(LEEWAYS))
    return case


@st.composite
def mutated_credential(draw: st.DrawFn, encoding: str) -> str:
    """A credential token to embed: a base of ``encoding``, possibly mutated and re-signed."""
    bases = tuple(b for b in w.central_credentials() if b.label.endswith(encoding))
    base = draw(st.sampled_from(bases))
    if draw(st.booleans()):
        return base.token
    doc = split(base.token)
    notes: list[str] = []
    draw(mutate.edits(doc, _extra_values(draw, bases), max_edits=2))
    token = draw(signed(doc, base.signer, notes))
    return token.decode("ascii", "replace") if isinstance(token, bytes) else token


#: The device credentials a presentation starts from, by the holder key each binds.
_BOUND = {"device": "device", "mimi device": "device_es256k", "org device": "device",
          "one-segment device": "device", "unbound device": "device"}


@st.composite
def presentation_case(draw: st.DrawFn) -> Case:
    """A presentation by a holder of one to three credentials, mutated and signed.

    Mostly the holder is the key the device credential binds and the companions are the
    user credentials that device lists, so that a single mutation or a single wrong
    argument is what decides.
    """
    ring = w.keyring()
    encoding = draw(st.sampled_from(["vc1", "vc2"]))
    bases = {b.label.rsplit(" ", 1)[0]: b for b in w.central_credentials()
             if b.label.endswith(encoding)}
    first_label = mutate.pick(draw, draw(st.sampled_from(["device", "mimi device",
                                                          "org device"])),
                              ["one-segment device", "unbound device"], 20)
    first = bases[first_label]
    own_user = {"device": ["user"], "mimi device": ["mimi user"]}.get(first_label, [])
    companions = mutate.pick(draw, draw(st.sampled_from([[], own_user])), [
        ["user", "user"], ["user"], ["mimi user"], ["org device"], ["mimi device"],
        ["unbound device", "user"]], 25)
    others = [bases[label] for label in companions]
    tokens = [first.token, *(b.token for b in others)]
    if mutate.rarely(draw, 25):
        tokens.append(draw(mutated_credential(encoding)))
    holder = _BOUND[first_label] if not mutate.rarely(draw, 15) else draw(
        st.sampled_from(["device", "device_es256k", "attacker"]))
    try:
        token = create_presentation(ring[holder], tokens, audience=w.VERIFIER, nonce=w.NONCE,
                                    now=w.NOW, encoding=encoding)
    except (InputError, TokenError):  # the presenter refuses a mutated credential
        tokens = tokens[:1 + len(others)]
        token = create_presentation(ring[holder], tokens, audience=w.VERIFIER, nonce=w.NONCE,
                                    now=w.NOW, encoding=encoding)
    doc = split(token)
    notes = [f"{encoding} presentation by {holder} of "
             + ", ".join([first.label, *(b.label for b in others)])
             + (" + a mutated credential" if len(tokens) > 1 + len(others) else "")]
    extra: list[Any] = [draw(mutated_credential(encoding)) for _ in range(2)]
    extra += [
        token, [token], [first.token] * 17, [b.token for b in bases.values()],
        {"@context": ["https://www.w3.org/ns/credentials/v2"],
         "type": ["EnvelopedVerifiableCredential"],
         "id": "data:application/vc+jwt," + first.token},
        {"@context": "https://www.w3.org/ns/credentials/v2",
         "type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt," + token},
        "data:application/vc+jwt," + first.token, w.DEVICE, w.MIMI_DEVICE, w.ONE_SEGMENT_DEVICE,
    ]
    notes += draw(mutate.edits(doc, extra))
    signed_token = draw(signed(doc, holder, notes))
    audience, nonce = w.VERIFIER, w.NONCE
    now, leeway = w.NOW, 60
    wrong = mutate.pick(draw, None, ["audience", "nonce", "no audience", "no nonce", "time",
                                     "leeway"], 35)
    if wrong == "audience":
        audience = draw(st.sampled_from(["https://other.example", w.VERIFIER + "/"]))
    elif wrong == "nonce":
        nonce = draw(st.sampled_from([w.NONCE + "x", w.NONCE.lower(), ""]))
    elif wrong == "no audience":
        audience = None  # type: ignore[assignment]
    elif wrong == "no nonce":
        nonce = None  # type: ignore[assignment]
    elif wrong == "time":
        now += draw(st.sampled_from([30, 299, 361, 601, -61]))
    elif wrong == "leeway":
        leeway = draw(st.sampled_from(LEEWAYS))
    notes.append(f"wrong: {wrong}")
    return Case(signed_token, now, leeway, notes, audience, nonce,
                replay=mutate.rarely(draw, 10))


DPOP_NONCE = "eyJ7S_zG.eyJH0-Z.HX4w-7v"


@st.composite
def dpop_case(draw: st.DrawFn) -> Case:
    """A DPoP proof by a holder, perhaps bound to a credential, mutated and signed; the
    request it is verified for is mostly the one it was made for, else wrong in one way."""
    ring = w.keyring()
    holder = draw(st.sampled_from(["device", "device", "device_es256k", "attacker"]))
    nonce = draw(st.sampled_from([None, DPOP_NONCE]))
    access_token = draw(st.sampled_from([None, w.ACCESS_TOKEN]))
    sub = draw(st.sampled_from([None, w.DEVICE, w.MIMI_DEVICE, w.ONE_SEGMENT_DEVICE]))
    token = create_proof(ring[holder], htm=w.HTM, htu=w.HTU, now=w.NOW, nonce=nonce,
                         access_token=access_token, sub=sub)
    doc = split(token)
    notes = [f"proof by {holder}, nonce={nonce!r}, ath={access_token is not None}, sub={sub!r}"]
    notes += draw(mutate.edits(doc))
    signed_token = draw(signed(doc, holder, notes))
    credentials = {b.label: b.token for b in w.central_credentials()}
    credential = mutate.pick(draw, draw(st.sampled_from([None, "device vc1", "device vc2"])),
                             ["mimi device vc1", "unbound device vc2", "user vc1",
                              "org device vc1", "one-segment device vc1", "mutated"], 35)
    credential_token = (draw(mutated_credential(draw(st.sampled_from(["vc1", "vc2"]))))
                        if credential == "mutated" else credentials.get(credential or ""))
    case = Case(signed_token, w.NOW, 60, notes, nonce=nonce, access_token=access_token,
                credential=credential_token, replay=mutate.rarely(draw, 10))
    wrong = mutate.pick(draw, None, ["htm", "htu", "nonce", "access token", "time", "leeway"],
                        35)
    if wrong == "htm":
        case.htm = draw(st.sampled_from(["GET", "post"]))
    elif wrong == "htu":
        case.htu = draw(st.sampled_from(["https://IM.EXAMPLE.COM:443/client/token?x=1",
                                         "https://im.example.com/client/other",
                                         "http://im.example.com/client/token"]))
    elif wrong == "nonce":
        case.nonce = draw(st.sampled_from([None, DPOP_NONCE, "other"]))
    elif wrong == "access token":
        case.access_token = draw(st.sampled_from([None, w.ACCESS_TOKEN, "other-token"]))
    elif wrong == "time":
        case.now = w.NOW + draw(st.sampled_from([30, 299, 361, -61, -59, 10**6]))
    elif wrong == "leeway":
        case.leeway = draw(st.sampled_from(LEEWAYS))
    notes.append(f"credential: {credential}; wrong: {wrong}")
    return case


def _statement_bases() -> list[tuple[str, str]]:
    """(token, signer name) of every statement kind."""
    ring = w.keyring()
    made = list(w.statements())
    signers = ["alice_master", "alice_usk", "bob_master", "bob_dsk", "carol", "carol"]
    jti = json.loads(jose.b64url_decode(made[0].split(".")[1], what="p"))["jti"]
    made.append(create_statement(ring["alice_master"], "revoke", issuer=w.ALICE, revokes=jti,
                                 now=w.NOW - 10))
    made.append(create_statement(ring["b1"], "wellknown", issuer=w.B1,
                                 subject="acct:bob@social.example", now=w.NOW - 10,
                                 valid_for=w.DAY))
    signers += ["alice_master", "b1"]
    return list(zip(made, signers, strict=True))


@st.composite
def statement_case(draw: st.DrawFn) -> Case:
    """A trust-model statement of any kind, mutated and signed (mostly by its header's key)."""
    token, signer = draw(st.sampled_from(_statement_bases()))
    doc = split(token)
    notes = [f"statement {doc['header'].get('typ')} by {signer}"]
    extra = ["acct:carol@code.example", "https://code.example:8443/carol",
             "https://user@code.example/carol", "http://code.example/carol",
             "https://code.example/carol#x", "https://127.0.0.1/carol", "acct:@host",
             "https://xn--80ak6aa92e.com/carol", "urn:uuid:00000000-0000-4000-8000-000000000000"]
    notes += draw(mutate.edits(doc, extra))
    signed_token = draw(signed(doc, signer, notes))
    return Case(signed_token, w.NOW + mutate.pick(draw, 0, [-w.DAY - 61, 30, w.DAY, 10**9], 30),
                mutate.pick(draw, 60, LEEWAYS, 20), notes)
