"""Mutations of a token's header and payload, and the hostile values they put in.

A mutation is an edit at a path of the header or payload: replace the value (with a value
chosen for that member's name, a generic hostile JSON value, or a value taken from
elsewhere in the token), remove it, add a member, or change its JSON type. Values for a
member are chosen by the member's name, so ``nbf`` gets milliseconds, floats and huge
times, ``alg`` gets ``none`` and ``HS256``, ``sub`` gets valid and invalid IM URIs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from . import world as w

Path = tuple[Any, ...]
Doc = dict[str, Any]  # {"header": {...}, "payload": {...}}

#: Identifiers: canonical and differently spelt valid ones, the known one-segment device,
#: and the malformed, out-of-domain and confusable ones a hostile holder would try.
IDENTIFIERS = [
    w.DEVICE, w.USER, w.HANDLE, w.MIMI_DEVICE, w.ONE_SEGMENT_DEVICE, w.ORG_DEVICE, w.ORG_HANDLE,
    w.B1, w.BOB, w.CAROL, w.CAROL_PHONE, w.ALICE,
    "mimi://x/d/dev", "mimi://example.com/u/alice_smith", "mimi://example.com",
    "IM:SvPfLlwBQi-6oddVRrkqpw/04c7@EXAMPLE.COM",
    "im:SvPfLlwBQi-6oddVRrkqpw/04c7@Example.com",
    "mimi://EXAMPLE.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7",
    "im:svpfllwbqi-6oddvrrkqpw/04c7@example.com",
    "im:%53vPfLlwBQi-6oddVRrkqpw/04c7@example.com",
    "im:wxyz=SvPfLlwBQi-6oddVRrkqpw/04c7@example.com",
    "im:xmpp=juliet/balcony@example.com", "im:xmpp=juliet@example.com", "im:irc=irc.example.com",
    "im:SvPfLlwBQi-6oddVRrkqpw%2F04c7@example.com", "im:a/b/c@example.com",
    "mimi://example.com/d/a/b/c", "mimi://example.com/u/a/b", "mimi://example.com/d/",
    "mimi://example.com/x/y", "mimi://example.com:443/d/a/b", "mimi://user@example.com/d/a/b",
    "im:wxyz=#projectX@example.com", "im:%23projectX@example.com", "im:$TII9t5viBrXiXc@example.com",
    "im:%23%23engineering/projX@example.com", "mimi://example.com/r/clubhouse",
    "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com?x=1",
    "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com#f",
    "im:SvPfLlwBQi-6oddVRrkqpw/04c7@sub.example.com", "im:SvPfLlwBQi-6oddVRrkqpw/04c7@example.com.",
    "im:SvPfLlwBQi-6oddVRrkqpw/04c7@127.0.0.1", "im:a/b@[::1]", "im:a/b@xn--exmple-cua.com",
    "im:a/b@exämple.com", "im:a\u200b/b@example.com", "im:a%00/b@example.com",
    "im:a%C3/b@example.com", "im:a%2/b@example.com", "im:a /b@example.com", "im:a\n/b@example.com",
    "im:./b@example.com", "im:a/..@example.com", "im:a=b/c@example.com", "im:a@b@example.com",
    "im:@example.com", "im:a/b@", "im:", "im:example", "im:example.com", "mimi://",
    "im:a/b@local.invalid", "im://a/b@example.com", "https://im.example.com", "did:key:z6Mk",
    "sip:juliet@example.com", "wireapp://SvPfLlwBQi-6oddVRrkqpw!04c7@example.com",
    "im:" + "a" * 2100 + "/b@example.com", "im:a/b@" + "a" * 64 + ".com",
]
TIMES = [
    w.NOW, w.NOW - 1, w.NOW + 1, w.NOW - 59, w.NOW + 59, w.NOW - 60, w.NOW + 60, w.NOW - 61,
    w.NOW + 61, w.NOW - 300, w.NOW - 361, w.NOW + 600, w.NOW + 90 * w.DAY, w.NOW - w.DAY,
    w.NOW * 1000, 1653455836315, 0, -1, -w.NOW, 253_402_300_799, 253_402_300_800, 10**12 - 1,
    10**12, 2**63, 2**64 + 1, 10**30, w.NOW + 0.5, float(w.NOW), 1.7e9, 1e308,
    str(w.NOW), True, False, None, [w.NOW], {"$date": w.NOW},
]
DATETIMES = ["2023-11-14T22:13:20Z", "2023-11-14T22:13:20+00:00", "2023-11-14T22:13:20.5Z",
             "2024-02-12T22:13:20Z", "2023-11-14T22:13:20", "2023-11-14 22:13:20Z",
             "2023-13-14T22:13:20Z", "2023-02-30T00:00:00Z", "0001-01-01T00:00:00Z",
             "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59", "2023-11-14T22:13:20z",
             "1700000000", "", "2023-11-14T22:13:20.1234567890123Z", "+002023-11-14T22:13:20Z"]
ALGS = ["none", "None", "NONE", "HS256", "HS512", "EdDSA", "Ed25519", "ES256", "ES256K", "RS256",
        "PS256", "ES384", "ES512", "RS512", "Ed448", "ed25519", "", " Ed25519", "RSA-OAEP",
        "dir", None, 0, ["Ed25519"], {"alg": "Ed25519"}]
TYPS = ["JWT", "jwt", "vc+jwt", "vp+jwt", "dpop+jwt", "at+jwt", "application/vc+jwt",
        "vc+sd-jwt", "JOSE", "JWT ", "", None, 1, ["JWT"], "im-wellknown+jwt", "im-wot-dsk+jwt",
        "im-wot-usk+jwt", "im-wot-device+jwt", "im-wot-user+jwt", "im-revoke+jwt"]
CONTEXTS = [
    "https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/v2",
    "https://vc-im.example/contexts/v1", "http://www.w3.org/2006/vcard/ns",
    "https://www.w3.org/ns/credentials/undefined-terms/v2", "https://evil.example/context",
    "https://www.w3.org/2018/credentials/v1#", "HTTPS://www.w3.org/2018/credentials/v1",
    {"@vocab": "https://evil.example/#"}, {"fn": "https://evil.example/fn"},
    {"@context": {"ImDeviceCredential": "https://evil.example/x"}}, {"@protected": False},
]
TYPE_VALUES = ["VerifiableCredential", "ImDeviceCredential", "ImUserCredential",
               "VerifiablePresentation", "EnvelopedVerifiableCredential", "MlsClientIdCredential",
               "https://vc-im.example/ns#ImDeviceCredential", "vcim:ImDeviceCredential",
               "ImUserIdentityCredential", "@json"]
GENERIC = [None, True, False, 0, -1, 1, 1.5, 2**53 + 1, -(2**63), "", " ", "x", "\u0000",
           "\ud800", "\u202e", "%00", "null", [], [None], [""], {}, {"": ""}, {"@id": "x"},
           {"__proto__": {"x": 1}}, "a" * 300, [[[[[[[[1]]]]]]]]]


def _keys() -> w.KeyRing:
    return w.keyring()


def jwks() -> list[Any]:
    """JWKs: the world's public keys, private ones, and broken or dangerous ones."""
    ring = _keys()
    out: list[Any] = []
    for name in ("device", "device_es256k", "attacker", "issuer", "other_issuer", "b1", "carol"):
        key = ring[name]
        public = dict(key.header_jwk())
        out += [public, public | {"kid": key.thumbprint()}, public | {"use": "sig"},
                public | {"alg": key.alg}]
    device = dict(ring["device"].header_jwk())
    private = dict(ring["device"].private_jwk())
    out += [
        private, device | {"d": private["d"]}, device | {"use": "enc"}, device | {"alg": "ES256"},
        device | {"alg": "EdDSA"}, device | {"key_ops": ["sign"]}, device | {"key_ops": "sign"},
        device | {"key_ops": ["encrypt"]}, device | {"x5u": "https://evil.example/k"},
        device | {"kty": "EC"}, device | {"crv": "X25519"}, device | {"crv": "Ed448"},
        {k: v for k, v in device.items() if k != "x"}, {"kty": "oct", "k": "c2VjcmV0"},
        device | {"x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},  # small order (identity)
        device | {"x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},  # small order
        device | {"x": device["x"] + "="}, device | {"x": device["x"][:-1]},
        device | {"kid": ""}, device | {"kid": 5}, device | {"kid": "\u0007"},
        device | {"jwk": device}, {"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "not a jwk", [device],
    ]
    return out


def kids() -> list[Any]:
    ring = _keys()
    out: list[Any] = ["issuer-key-1", "issuer-es256", "org-rsa", "", " ", "unknown", 5, None,
                      ["issuer-key-1"], "../../etc/passwd", "issuer-key-1\u0000"]
    for name in ("device", "device_es256k", "attacker", "issuer", "b1", "carol"):
        key = ring[name]
        out += [key.thumbprint(), key.thumbprint_uri()]
    return out


def cnfs() -> list[Any]:
    ring = _keys()
    out: list[Any] = [{"jwk": jwk} for jwk in jwks()]
    device = dict(ring["device"].header_jwk())
    thumb = ring["device"].thumbprint()
    out += [
        {"jkt": thumb}, {"jkt": ring["device_es256k"].thumbprint()},
        {"jkt": ring["attacker"].thumbprint()}, {"jkt": thumb + "A"}, {"jkt": thumb[:-1]},
        {"jkt": thumb[:-1] + "_"}, {"jkt": ring["device"].thumbprint_uri()}, {"jkt": 5},
        {"jwk": device, "jkt": thumb}, {"jwk": device, "kid": "x"}, {"kid": thumb},
        {"jku": "https://evil.example/jwks"}, {"jwe": "x.y.z.w.v"}, {}, [device], thumb,
    ]
    return out


#: Values chosen by member name; members not named here get generic values.
def by_name() -> dict[str, list[Any]]:
    auds = [w.VERIFIER, [w.VERIFIER], [w.VERIFIER, "https://other.example"],
            ["https://other.example", w.VERIFIER], "https://other.example",
            w.VERIFIER.upper(), w.VERIFIER + "/", [], [[w.VERIFIER]], {"aud": w.VERIFIER}]
    nonces = [w.NONCE, w.NONCE + "x", w.NONCE.upper(), "", [w.NONCE], {"nonce": w.NONCE},
              w.NONCE + "\u0000", "WE88EvOBzbqGerznM-2P_AadVf7374y0cH19sDSZA2A"]
    htus = [w.HTU, w.HTU.upper(), "https://IM.example.com/client/token",
            "https://im.example.com:443/client/token", "https://im.example.com/client/token?a=1",
            "https://im.example.com/client/token#f", "https://im.example.com/client/./token",
            "https://im.example.com/client/x/../token", "https://im.example.com/client/%74oken",
            "https://im.example.com/client/token/", "http://im.example.com/client/token",
            "https://im.example.com:8443/client/token", "https://evil.example/client/token",
            "https://user@im.example.com/client/token", "https://im.example.com/client/Token",
            "//im.example.com/client/token", "/client/token", "https://im.example.com:99999/x",
            "https://[::1]/client/token", "ftp://im.example.com/client/token"]
    issuers = [w.ISSUER, w.OTHER_ISSUER, w.ISSUER + "/", w.ISSUER.upper(), "https://evil.example",
               {"id": w.ISSUER}, {"id": w.ISSUER, "name": "x"}, [w.ISSUER], "im.example.com",
               w.B1, w.CAROL_PHONE, w.DEVICE]
    return {
        "alg": ALGS, "typ": TYPS, "cty": ["vc", "vp", "JWT", "json", "", None, "vc+jwt"],
        "kid": kids(), "jwk": jwks(), "cnf": cnfs(),
        "crit": [["exp"], ["b64"], [], ["crit"], "exp", [1]], "b64": [False, True],
        "x5c": [["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"], [], "MIIB", [""]],
        "x5u": ["https://evil.example/cert.pem"], "jku": ["https://evil.example/jwks.json"],
        "x5t": ["abc"], "x5t#S256": ["abc"], "zip": ["DEF"], "enc": ["A256GCM"],
        "iss": issuers, "issuer": issuers, "holder": [w.DEVICE, w.MIMI_DEVICE, *IDENTIFIERS[:8]],
        "sub": IDENTIFIERS, "id": [*IDENTIFIERS[:10], "urn:uuid:x", "https://im.example.com/c/1",
                                   "not a uri", "data:application/vc+jwt,", 5],
        "jti": ["urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5", "https://im.example.com/c/1",
                "", "no scheme", "urn:uuid:3978344F-8596-4C3A-A978-8FCABA3903C5", 5, None,
                "a" * 70000],
        "nbf": TIMES, "iat": TIMES, "exp": TIMES, "validFrom": DATETIMES,
        "validUntil": DATETIMES, "issuanceDate": DATETIMES, "expirationDate": DATETIMES,
        "@context": [[c] for c in CONTEXTS[:3]] + [
            ["https://www.w3.org/2018/credentials/v1", "https://vc-im.example/contexts/v1"],
            ["https://www.w3.org/ns/credentials/v2", "https://vc-im.example/contexts/v1"],
            ["https://vc-im.example/contexts/v1", "https://www.w3.org/2018/credentials/v1"],
            ["https://www.w3.org/2018/credentials/v1", "https://vc-im.example/contexts/v1",
             {"@vocab": "https://evil.example/#"}],
            ["https://www.w3.org/ns/credentials/v2", "https://vc-im.example/contexts/v1",
             "https://www.w3.org/ns/credentials/undefined-terms/v2"],
            "https://www.w3.org/2018/credentials/v1", *CONTEXTS],
        "type": [[a, b] for a in TYPE_VALUES[:4] for b in TYPE_VALUES[:4]] + [
            ["VerifiableCredential"], ["VerifiableCredential", "ImDeviceCredential",
                                       "ImUserCredential"], ["ImDeviceCredential"],
            "VerifiablePresentation", ["VerifiablePresentation"], *TYPE_VALUES],
        "hasInstantMessage": [[v] for v in IDENTIFIERS[:14]] + [
            [w.DEVICE, w.DEVICE], [w.DEVICE, w.HANDLE, w.ORG_HANDLE], [w.DEVICE, w.CAROL],
            [w.B1, w.BOB], [w.CAROL_PHONE, w.CAROL, w.HANDLE], [w.DEVICE] * 33,
            [w.DEVICE, *(f"im:%40h{i}@example.com" for i in range(40))], w.DEVICE, [], [None],
            [w.DEVICE, "im:wxyz=#projectX@example.com"], [w.DEVICE, w.HANDLE.upper()]],
        "fn": ["Alice", "", " ", "\u202eecilA", "a" * 5000, None, ["Alice"]],
        "hasOrganizationName": ["Example Corp", "", None, 5],
        "hasOrganizationalUnit": ["Engineering", "", None],
        "hasOrganizationUnit": ["Engineering", "", None],
        "mayIssueDeviceCredentials": [True, False, "true", 1, None],
        "credentialSubject": [{"id": w.DEVICE}, [], "x", None, [{"id": w.DEVICE, "fn": "A"}]],
        "credentialStatus": [
            {"id": "https://im.example.com/status/1#94567", "type": "StatusList2021Entry",
             "statusPurpose": "revocation", "statusListIndex": "94567",
             "statusListCredential": "https://im.example.com/status/1"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
             "statusListIndex": "94567",
             "statusListCredential": "https://im.example.com/status/3"}],
        "aud": auds, "nonce": nonces, "htm": ["POST", "post", "GET", "", "POST ", 1],
        "htu": htus, "ath": ["fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo", "", "x", 5],
        "revokes": ["urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5", "x", None],
        "verifiableCredential": [[], "x", [None], [{}], [5]],
        "proof": [{"type": "Ed25519Signature2020"}], "vc": [{}, None, "x", []],
        "vp": [{}, None, "x", []],
    }


NEW_MEMBERS = ["crit", "jku", "x5u", "x5c", "jwk", "b64", "zip", "enc", "cty", "kid", "typ",
               "x5t", "x5t#S256", "iat", "nbf", "exp", "vc", "vp", "cnf", "nonce", "aud", "sub",
               "jti", "holder", "credentialStatus", "proof", "hasOrganizationUnit", "evil",
               "@context", "@id", "@type", "id", "issuer", "validFrom", "validUntil", "ath",
               "__proto__", "constructor", "mayIssueDeviceCredentials", "revokes", "htm"]


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every path inside ``value`` (dict members and list items)."""
    found: list[Path] = []
    if isinstance(value, dict):
        for name, inner in value.items():
            found.append((*prefix, name))
            found.extend(paths(inner, (*prefix, name)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.append((*prefix, index))
            found.extend(paths(inner, (*prefix, index)))
    return found


def containers(value: Any, prefix: Path = ()) -> list[Path]:
    """Paths of the objects inside ``value`` (where a member can be added)."""
    found: list[Path] = [prefix] if isinstance(value, dict) else []
    if isinstance(value, dict):
        for name, inner in value.items():
            found.extend(containers(inner, (*prefix, name)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(containers(inner, (*prefix, index)))
    return found


def _get(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _name(path: Path) -> str:
    """The member name a path ends in (the list's name for a list item)."""
    for step in reversed(path):
        if isinstance(step, str):
            return step
    return ""


def _retype(value: Any) -> list[Any]:
    """The same value in other JSON types."""
    out: list[Any] = [[value], {"id": value}, str(value) if not isinstance(value, str) else None]
    if isinstance(value, list) and value:
        out += [value[0], value[::-1], value + value, value[:-1]]
    if isinstance(value, bool):
        out.append(int(value))
    elif isinstance(value, int):
        out += [float(value), value + 0.5, -value, value * 1000, str(value)]
    if isinstance(value, str):
        out += [value.upper(), value + " ", " " + value, value[:-1], value + "\u0000",
                value + "=", value.encode("utf-8", "surrogatepass").hex()]
    if isinstance(value, dict):
        out += [list(value.values()), {}, dict(reversed(list(value.items())))]
    return out


@st.composite
def edit(draw: st.DrawFn, doc: Doc, extra_values: list[Any] | None = None) -> str:
    """Apply one mutation to ``doc`` in place; return a description of it."""
    where = draw(st.sampled_from(["header", "payload", "payload", "payload"]))
    root = doc[where]
    existing = paths(root)
    op = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add", "retype",
                               "steal"]))
    named = by_name()
    if op == "add" or not existing:
        parent = draw(st.sampled_from(containers(root)))
        name = draw(st.sampled_from(NEW_MEMBERS) | st.text(max_size=6))
        pool = named.get(name, GENERIC)
        value = copy.deepcopy(draw(st.sampled_from(pool) | st.sampled_from(GENERIC)))
        _get(root, parent)[name] = value
        return f"{where}: add {(*parent, name)} = {value!r:.80}"
    path = draw(st.sampled_from(existing))
    parent, last = _get(root, path[:-1]), path[-1]
    if op == "remove":
        del parent[last]
        return f"{where}: remove {path}"
    old = parent[last]
    if op == "retype":
        value = draw(st.sampled_from([v for v in _retype(old) if v is not None] or GENERIC))
    elif op == "steal":  # a value from elsewhere in the token (or another token)
        everything = [_get(doc[part], p) for part in ("header", "payload")
                      for p in paths(doc[part])]
        value = draw(st.sampled_from(everything + (extra_values or [])))
    else:
        pool = named.get(_name(path), []) + (extra_values or [])
        anything: st.SearchStrategy[Any] = (st.sampled_from(GENERIC) | st.text(max_size=8)
                                            | st.integers())
        named_pool: st.SearchStrategy[Any] = st.sampled_from(pool) if pool else anything
        value = draw(named_pool if draw(st.integers(0, 4)) else anything)
    parent[last] = copy.deepcopy(value)
    return f"{where}: {op} {path} = {value!r:.80}"


@st.composite
def edits(draw: st.DrawFn, doc: Doc, extra_values: list[Any] | None = None,
          max_edits: int = 4) -> list[str]:
    """Zero (half the time: the valid base, so that accepting is checked as much as refusing)
    to ``max_edits`` mutations; one mutation is the most common of the rest."""
    if rarely(draw, 50):
        return []
    count = pick(draw, 1, list(range(2, max_edits + 1)), 40)
    return [draw(edit(doc, extra_values)) for _ in range(count)]


# --------------------------------------------------------------------------------------------
# The encoding layer: the compact serialisation itself


def _flip_last(segment: str) -> str:
    """Another base64url spelling of nearly the same bytes (padding bits set)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if not segment:
        return "A"
    index = alphabet.index(segment[-1])
    return segment[:-1] + alphabet[index ^ 1]


ENCODINGS: dict[str, Callable[[str], str | bytes]] = {
    "as is": lambda t: t,
    "bytes": lambda t: t.encode("ascii"),
    "trailing newline": lambda t: t + "\n",
    "two newlines": lambda t: t + "\n\n",
    "leading space": lambda t: " " + t,
    "crlf": lambda t: t + "\r\n",
    "padded payload": lambda t: ".".join([t.split(".")[0], t.split(".")[1] + "=", t.split(".")[2]]),
    "padded signature": lambda t: t + "==",
    "non-canonical signature": lambda t: t.rsplit(".", 1)[0] + "." + _flip_last(t.rsplit(".")[-1]),
    "non-canonical header": lambda t: _flip_last(t.split(".")[0]) + "." + t.split(".", 1)[1],
    "no signature": lambda t: t.rsplit(".", 1)[0] + ".",
    "unsigned": lambda t: t.rsplit(".", 1)[0],
    "four parts": lambda t: t + ".AAAA",
    "five parts": lambda t: t + ".AAAA.AAAA",
    "json serialisation": lambda t: '{"payload":"' + t.split(".")[1] + '","signatures":[]}',
    "flipped signature": lambda t: t.rsplit(".", 1)[0] + "." + t.rsplit(".", 1)[1][::-1],
    "standard base64": lambda t: t.replace("-", "+").replace("_", "/"),
    "utf-8 bytes": lambda t: t.encode("ascii") + "é".encode(),
    "oversized": lambda t: t + "A" * 70000,
}


def rarely(draw: st.DrawFn, percent: int) -> bool:
    """True about ``percent`` times in a hundred. Hypothesis favours the ends of a range, so
    the rare outcome is a band in its middle."""
    return 37 <= draw(st.integers(0, 99)) < 37 + percent


def pick(draw: st.DrawFn, common: Any, rare: list[Any], percent: int) -> Any:
    """``common``, except about ``percent`` times in a hundred one of ``rare``."""
    return draw(st.sampled_from(rare)) if rarely(draw, percent) else common


@st.composite
def encoding_strategy(draw: st.DrawFn) -> str:
    """Mostly the token as signed; one time in five a hostile re-serialisation of it."""
    if not rarely(draw, 20):
        return "as is"
    return draw(st.sampled_from(list(ENCODINGS)))
