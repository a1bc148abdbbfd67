"""vc_im.trust: the trust file, read strictly (unknown members, private keys, repeats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ISSUER
from tests.helpers.trust_models import Pki
from vc_im import identifiers, keys
from vc_im.errors import TrustFileError
from vc_im.trust import (
    Combine,
    OnContradiction,
    PolicyRule,
    TrustedIssuer,
    TrustMethod,
    TrustStore,
    parse_trust,
    read_trust_file,
)


@pytest.fixture
def public_jwk(issuer_key: keys.Key) -> dict[str, str]:
    """The issuer's public JWK, as a trust file lists it."""
    return dict(issuer_key.public_jwk)


def document(public_jwk: dict[str, str], **issuer: Any) -> dict[str, Any]:
    """A trust file with one issuer; keyword arguments replace or add issuer members."""
    entry: dict[str, Any] = {"id": ISSUER, "keys": [public_jwk], "domains": ["example.com"]}
    entry.update(issuer)
    return {"issuers": [entry]}


def parse(value: object) -> TrustStore:
    """Parse a JSON value as a trust file."""
    return parse_trust(json.dumps(value).encode())


def refused(value: object | bytes) -> str:
    """The message of the TrustFileError that parsing ``value`` raises."""
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    with pytest.raises(TrustFileError) as caught:
        parse_trust(data)
    assert caught.value.code == "bad_trust_file"
    assert caught.value.exit_code == 2
    return caught.value.message


def test_valid_trust_file(public_jwk: dict[str, str], issuer_key: keys.Key) -> None:
    """A trust file with one issuer, its key and its domains is read as such."""
    store = parse(document(public_jwk))
    issuer = store.issuer(ISSUER)
    assert issuer is not None
    assert issuer.id == ISSUER
    assert issuer.keys == (issuer_key.public(),)
    assert not issuer.keys[0].is_private
    assert issuer.domains == frozenset({"example.com"})
    assert list(store.issuers) == [ISSUER]


def test_domains_are_optional(public_jwk: dict[str, str]) -> None:
    """An issuer without domains has domains None: trusted for every domain."""
    entry = document(public_jwk)
    del entry["issuers"][0]["domains"]
    issuer = parse(entry).issuer(ISSUER)
    assert issuer is not None
    assert issuer.domains is None
    assert issuer.covers(identifiers.parse("im:%40bob@anywhere.example"))


def test_empty_issuer_list(public_jwk: dict[str, str]) -> None:
    """A trust file with no issuers is valid and trusts nobody."""
    assert parse({"issuers": []}).issuer(ISSUER) is None


def test_unknown_top_level_member(public_jwk: dict[str, str]) -> None:
    """An unknown top-level member (a typo of a trust model's name, say) is an error."""
    value = {**document(public_jwk), "trust_model": "x509"}
    message = refused(value)
    assert message.startswith("the trust file has unknown member 'trust_model'; allowed: ")
    assert "issuers" in message


@pytest.mark.parametrize("member", ["domain", "Domains", "kid", "revocation"])
def test_unknown_issuer_member(member: str, public_jwk: dict[str, str]) -> None:
    """A misspelt or unknown issuer member is an error (a typo must not trust every domain)."""
    value = document(public_jwk, **{member: ["example.com"]})
    assert refused(value) == (f"the trust file: issuers[0] has unknown member {member!r}; "
                              "allowed: domains, id, keys, profiles.")


def test_unknown_key_member(public_jwk: dict[str, str]) -> None:
    """An unknown JWK member in a trust-file key is an error."""
    message = refused(document(public_jwk, keys=[{**public_jwk, "trusted": "yes"}]))
    assert message.startswith("the trust file: issuers[0].keys[0]: ")
    assert "'trusted'" in message


def test_private_key_is_refused_without_showing_it(public_jwk: dict[str, str],
                                                   issuer_key: keys.Key) -> None:
    """A private key in a trust file is refused, and the message never shows its d."""
    private = issuer_key.private_jwk()
    message = refused(document(public_jwk, keys=[private]))
    assert message.startswith("the trust file: issuers[0].keys[0]: ")
    assert "private" in message
    assert private["d"] not in message


def test_duplicate_kid(public_jwk: dict[str, str], attacker_key: keys.Key) -> None:
    """Two keys of one issuer with the same kid are an error."""
    other = {**attacker_key.public_jwk, "kid": public_jwk["kid"]}
    assert refused(document(public_jwk, keys=[public_jwk, other])) == (
        f"the trust file: issuers[0] has two keys with kid {public_jwk['kid']!r}.")


def test_duplicate_issuer(public_jwk: dict[str, str]) -> None:
    """The same issuer id listed twice is an error."""
    entry = document(public_jwk)["issuers"][0]
    assert refused({"issuers": [entry, entry]}) == (
        f"the trust file: issuers[1] repeats the issuer {ISSUER!r}.")


def test_duplicate_json_member(public_jwk: dict[str, str]) -> None:
    """A trust file with a repeated JSON member name is refused, not read last-wins."""
    text = json.dumps(document(public_jwk)).replace('"domains":', '"domains": ["evil.example"], '
                                                    '"domains":')
    message = refused(text.encode())
    assert message.startswith("the trust file is not usable: ")
    assert "'domains' appears twice" in message


def test_domains_are_normalised(public_jwk: dict[str, str]) -> None:
    """Domains are stored lower-case, in IDNA A-labels."""
    issuer = parse(document(public_jwk, domains=["EXAMPLE.com", "Bücher.Example",
                                                 "xn--bcher-kva.example"])).issuer(ISSUER)
    assert issuer is not None
    assert issuer.domains == frozenset({"example.com", "xn--bcher-kva.example"})


def test_domains_match_exactly_without_subdomains(public_jwk: dict[str, str]) -> None:
    """covers() is an exact domain match after normalisation; subdomains are not covered."""
    issuer = parse(document(public_jwk, domains=["Example.COM"])).issuer(ISSUER)
    assert issuer is not None
    assert issuer.covers(identifiers.parse("im:%40alice@EXAMPLE.com"))
    assert not issuer.covers(identifiers.parse("im:%40alice@chat.example.com"))
    assert not issuer.covers(identifiers.parse("im:%40alice@example.com.evil"))
    assert not issuer.covers(identifiers.parse("mimi://example.org/u/alice"))


@pytest.mark.parametrize(("domains", "problem"), [
    ([], "non-empty array"), ("example.com", "non-empty array"), ([7], "non-empty array"),
    (["exa mple.com"], ""), (["-example.com"], ""), ([""], ""),
], ids=["empty", "string", "number", "space", "hyphen", "blank"])
def test_bad_domains(domains: object, problem: str, public_jwk: dict[str, str]) -> None:
    """domains must be a non-empty array of valid domain names."""
    message = refused(document(public_jwk, domains=domains))
    assert message.startswith("the trust file: issuers[0]")
    assert problem in message


@pytest.mark.parametrize("keys_value", ["missing", [], {}, "key", [["kty"]]],
                         ids=["missing", "empty", "object", "string", "not-a-jwk"])
def test_missing_or_malformed_keys(keys_value: object, public_jwk: dict[str, str]) -> None:
    """An issuer needs a non-empty keys array of JWK objects."""
    value = document(public_jwk)
    if keys_value == "missing":
        del value["issuers"][0]["keys"]
    else:
        value["issuers"][0]["keys"] = keys_value
    message = refused(value)
    assert message.startswith("the trust file: issuers[0]")
    assert "keys" in message


def test_unusable_key(public_jwk: dict[str, str]) -> None:
    """A key the keys module refuses (a small-order Ed25519 point) makes the file unusable."""
    small_order = {"kty": "OKP", "crv": "Ed25519",
                   "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    message = refused(document(public_jwk, keys=[small_order]))
    assert "small-order" in message


@pytest.mark.parametrize("issuer_id", ["missing", "", "im.example.com", " https://im.example.com",
                                       7], ids=["missing", "empty", "relative", "space", "int"])
def test_issuer_needs_an_absolute_uri_id(issuer_id: object, public_jwk: dict[str, str]) -> None:
    """An issuer's id must be an absolute URI without surrounding whitespace."""
    value = document(public_jwk)
    if issuer_id == "missing":
        del value["issuers"][0]["id"]
    else:
        value["issuers"][0]["id"] = issuer_id
    assert refused(value) == ('the trust file: issuers[0] needs an "id" that is an absolute '
                              "URI.")


@pytest.mark.parametrize(("value", "problem"), [
    ([], "must be a JSON object"),
    ({}, 'needs an "issuers" array'),
    ({"issuers": {}}, 'needs an "issuers" array'),
    ({"issuers": ["https://im.example.com"]}, "must be a JSON object"),
], ids=["array", "no-issuers", "issuers-object", "issuer-string"])
def test_wrong_structure(value: object, problem: str) -> None:
    """The file is an object with an issuers array of objects."""
    assert problem in refused(value)


@pytest.mark.parametrize("data", [b"", b"{", b"\xef\xbb\xbf{}", b'{"issuers": NaN}',
                                  b"\xff\xfe{}"], ids=["empty", "truncated", "bom", "nan",
                                                       "utf-16"])
def test_not_strict_json(data: bytes) -> None:
    """Bytes that are not strict JSON give a TrustFileError, never a JSON exception."""
    assert refused(data).startswith("the trust file is not usable: ")


def test_oversized_trust_file() -> None:
    """A trust file over 1 MiB is refused."""
    message = refused(b'{"issuers": []}' + b" " * (1 << 20))
    assert "larger than" in message


def test_issuer_ids_match_exactly(public_jwk: dict[str, str]) -> None:
    """Issuer lookup is exact: another case or a trailing slash is another issuer."""
    store = parse(document(public_jwk))
    assert store.issuer("https://IM.example.com") is None
    assert store.issuer(ISSUER + "/") is None


def test_read_trust_file(tmp_path: Path, public_jwk: dict[str, str]) -> None:
    """read_trust_file reads a file, and names the path when it cannot."""
    path = tmp_path / "trust.json"
    path.write_text(json.dumps(document(public_jwk)))
    assert read_trust_file(path).issuer(ISSUER) is not None
    with pytest.raises(TrustFileError) as caught:
        read_trust_file(tmp_path / "missing.json")
    assert caught.value.message.startswith(f"cannot read the trust file {tmp_path}/missing.json")
    path.write_text('{"issuers": [], "extra": 1}')
    with pytest.raises(TrustFileError) as caught:
        read_trust_file(path)
    assert caught.value.message.startswith(f"trust file {path} has unknown member 'extra'; ")


def test_trust_store_of(issuer_key: keys.Key) -> None:
    """TrustStore.of builds the same store from issuers given in code."""
    issuer = TrustedIssuer(ISSUER, (issuer_key.public(),), frozenset({"example.com"}))
    store = TrustStore.of(issuer)
    assert store.issuer(ISSUER) is issuer
    assert store.issuer("https://other.example") is None


# --------------------------------------------------------------------------------------------
# The trust models' members: x509_roots, web_of_trust, well_known, policy

ALICE = "im:alice@example.com"


@pytest.fixture(scope="module")
def master_jwk() -> dict[str, str]:
    """Alice's master public key, as a web_of_trust member names it."""
    return dict(keys.generate().public_jwk)


@pytest.fixture(scope="module")
def pki() -> Pki:
    """A CA to list in x509_roots."""
    return Pki.mint("vc-im test CA")


def with_members(public_jwk: dict[str, str], **members: Any) -> dict[str, Any]:
    """The one-issuer trust file with the trust-model members given."""
    return {**document(public_jwk), **members}


def test_every_trust_model_member(public_jwk: dict[str, str], master_jwk: dict[str, str],
                                  pki: Pki) -> None:
    """x509_roots, web_of_trust, well_known and policy are read into the store, rules in
    order, "*" as every domain, {"k": N} as N, domains normalised."""
    store = parse(with_members(
        public_jwk, x509_roots=[pki.root],
        web_of_trust={"id": ALICE, "master_key": master_jwk, "max_hops": 2},
        well_known={"threshold": 3},
        policy=[{"domains": ["Example.COM"], "methods": ["central", "x509"], "combine": {"k": 2}},
                {"domains": ["*"], "methods": ["central", "well_known"], "combine": "all",
                 "contradiction": "report"}]))
    assert [root.subject.rfc4514_string() for root in store.x509_roots] == ["CN=vc-im test CA"]
    assert store.web_of_trust is not None
    assert (store.web_of_trust.id, store.web_of_trust.max_hops) == (identifiers.parse(ALICE), 2)
    assert store.web_of_trust.master_key.public_jwk["x"] == master_jwk["x"]
    assert not store.web_of_trust.master_key.is_private
    assert store.well_known_threshold == 3
    first = PolicyRule(frozenset({"example.com"}), (TrustMethod.CENTRAL, TrustMethod.X509),
                       Combine(2), OnContradiction.FAIL)
    second = PolicyRule(None, (TrustMethod.CENTRAL, TrustMethod.WELL_KNOWN), Combine.ALL,
                        OnContradiction.REPORT)
    assert store.policy == (first, second)
    assert store.rule_for("example.com") == first
    assert store.rule_for("example.org") == second
    assert store.configured_methods() == tuple(TrustMethod)


def test_trust_model_defaults(public_jwk: dict[str, str], master_jwk: dict[str, str]) -> None:
    """max_hops defaults to 1, threshold to 2, combine to any, contradiction to fail."""
    store = parse(with_members(public_jwk,
                               web_of_trust={"id": ALICE, "master_key": master_jwk},
                               well_known={},
                               policy=[{"domains": ["example.com"], "methods": ["central"]}]))
    assert store.web_of_trust is not None
    assert store.web_of_trust.max_hops == 1
    assert store.well_known_threshold == 2
    assert store.policy == (PolicyRule(frozenset({"example.com"}), (TrustMethod.CENTRAL,)),)
    assert (store.policy[0].combine, store.policy[0].contradiction) == (
        Combine.ANY, OnContradiction.FAIL)


def test_without_policy_any_configured_method_will_do(public_jwk: dict[str, str]) -> None:
    """Without a policy, every domain gets one rule: any of the methods with an anchor."""
    store = parse(document(public_jwk))
    assert store.configured_methods() == ("central", "cascade")
    assert store.rule_for("example.org") == PolicyRule(
        None, (TrustMethod.CENTRAL, TrustMethod.CASCADE), Combine.ANY, OnContradiction.FAIL)
    assert parse({"issuers": []}).configured_methods() == ()


def test_a_policy_without_a_default_rule_covers_only_its_domains(
        public_jwk: dict[str, str]) -> None:
    """With a policy, a domain no rule names gets a rule without methods (nothing vouches
    there); a "*" rule is the default."""
    store = parse(with_members(public_jwk, policy=[{"domains": ["example.com"],
                                                    "methods": ["central"]}]))
    assert store.rule_for("example.org") == PolicyRule(frozenset({"example.org"}), ())
    fallback = parse(with_members(public_jwk, policy=[
        {"domains": ["example.com"], "methods": ["central"]},
        {"domains": ["*"], "methods": ["cascade"]}]))
    assert fallback.rule_for("example.org") == PolicyRule(None, (TrustMethod.CASCADE,))


WOT = "the trust file: web_of_trust"
HOPS = f'{WOT}: "max_hops" must be a whole number from 0 to 4.'
THRESHOLD = 'the trust file: well_known "threshold" must be a whole number from 1 to 16.'
RULE = "the trust file: policy[0]"
COMBINE = f'{RULE}: "combine" must be "any", "all" or {{"k": N}} with N from 1 to 2.'
CONTRADICTION = f'{RULE}: "contradiction" must be "fail" or "report".'


def _rule(**members: Any) -> list[dict[str, Any]]:
    return [{"domains": ["*"], "methods": ["central", "cascade"], **members}]


@pytest.mark.parametrize(("members", "message"), [
    ({"web_of_trust": {"id": ALICE, "master_key": "M", "hops": 1}},
     f"{WOT} has unknown member 'hops'; allowed: id, master_key, max_hops."),
    ({"web_of_trust": []}, f"{WOT} must be a JSON object."),
    ({"web_of_trust": {"id": ALICE}}, f'{WOT} needs a "master_key" (a public JWK).'),
    ({"web_of_trust": {"id": "alice", "master_key": "M"}},
     f'{WOT}: "id" must be your user identifier: this is not an IM identifier: it starts with '
     'neither "im:" nor "mimi://".'),
    ({"web_of_trust": {"id": ALICE, "master_key": "M", "max_hops": -1}}, HOPS),
    ({"web_of_trust": {"id": ALICE, "master_key": "M", "max_hops": 5}}, HOPS),
    ({"web_of_trust": {"id": ALICE, "master_key": "M", "max_hops": True}}, HOPS),
    ({"web_of_trust": {"id": ALICE, "master_key": "M", "max_hops": "1"}}, HOPS),
    ({"web_of_trust": {"id": ALICE, "master_key": "M", "max_hops": 1.5}}, HOPS),
    ({"well_known": {"threshold": 2, "k": 2}},
     "the trust file: well_known has unknown member 'k'; allowed: threshold."),
    ({"well_known": {"threshold": 0}}, THRESHOLD),
    ({"well_known": {"threshold": 17}}, THRESHOLD),
    ({"well_known": {"threshold": True}}, THRESHOLD),
    ({"well_known": {"threshold": "2"}}, THRESHOLD),
    ({"well_known": {"threshold": 2.5}}, THRESHOLD),
    ({"policy": []}, 'the trust file: "policy" must be a non-empty array of rules.'),
    ({"policy": _rule(order=1)},
     f"{RULE} has unknown member 'order'; allowed: combine, contradiction, domains, methods."),
    ({"policy": [{"methods": ["central"]}]},
     f'{RULE} needs "domains" (or ["*"] for every domain).'),
    ({"policy": _rule(methods=["dns"])},
     f'{RULE}: "methods" must be distinct names among central, cascade, x509, web_of_trust, '
     "well_known."),
    ({"policy": _rule(methods=["central", "central"])},
     f'{RULE}: "methods" must be distinct names among central, cascade, x509, web_of_trust, '
     "well_known."),
    ({"policy": _rule(methods=["x509"])},
     f"{RULE} uses the method 'x509', but the trust file configures no anchor for it."),
    ({"policy": _rule(methods=["central", "web_of_trust"])},
     f"{RULE} uses the method 'web_of_trust', but the trust file configures no anchor for it."),
    ({"policy": _rule(methods=["well_known"])},
     f"{RULE} uses the method 'well_known', but the trust file configures no anchor for it."),
    ({"policy": _rule(combine="some")}, COMBINE),
    ({"policy": _rule(combine=None)}, COMBINE),
    ({"policy": _rule(combine=2)}, COMBINE),
    ({"policy": _rule(combine={"k": 0})}, COMBINE),
    ({"policy": _rule(combine={"k": 3})}, COMBINE),
    ({"policy": _rule(combine={"k": True})}, COMBINE),
    ({"policy": _rule(combine={"k": 1.0})}, COMBINE),
    ({"policy": _rule(combine={"k": 1, "n": 2})}, COMBINE),
    ({"policy": _rule(contradiction="ignore")}, CONTRADICTION),
    ({"policy": _rule(contradiction=False)}, CONTRADICTION),
    ({"x509_roots": []},
     'the trust file: "x509_roots" must be a non-empty array of PEM certificates.'),
    ({"x509_roots": "-----BEGIN CERTIFICATE-----"},
     'the trust file: "x509_roots" must be a non-empty array of PEM certificates.'),
    ({"x509_roots": ["not a certificate"]},
     "the trust file: x509_roots[0]: the CA roots file holds no readable PEM or DER X.509 "
     "certificate."),
], ids=[
    "wot-unknown-member", "wot-not-object", "wot-no-master-key", "wot-bad-id",
    "hops-negative", "hops-5", "hops-bool", "hops-string", "hops-float",
    "wk-unknown-member", "threshold-0", "threshold-17", "threshold-bool",
    "threshold-string", "threshold-float", "policy-empty", "rule-unknown-member",
    "rule-no-domains", "rule-unknown-method", "rule-repeated-method", "rule-x509-no-roots",
    "rule-wot-no-anchor", "rule-wellknown-no-anchor", "combine-some", "combine-null",
    "combine-int", "combine-k0", "combine-k3", "combine-kbool", "combine-kfloat",
    "combine-extra-member", "contradiction-ignore", "contradiction-bool", "roots-empty",
    "roots-string", "roots-garbage",
])
def test_trust_model_member_refusals(members: dict[str, Any], message: str,
                                     public_jwk: dict[str, str],
                                     master_jwk: dict[str, str]) -> None:
    """Each malformed trust-model member is refused with its own exact sentence."""
    wot = members.get("web_of_trust")
    if isinstance(wot, dict) and wot.get("master_key") == "M":
        members = {**members, "web_of_trust": {**wot, "master_key": master_jwk}}
    assert refused(with_members(public_jwk, **members)) == message


def test_policy_method_needs_issuers_for_central(master_jwk: dict[str, str]) -> None:
    """central (and cascade) need issuers: a policy naming them without any is refused."""
    value = {"issuers": [], "web_of_trust": {"id": ALICE, "master_key": master_jwk},
             "policy": [{"domains": ["*"], "methods": ["web_of_trust", "cascade"]}]}
    assert refused(value) == (f"{RULE} uses the method 'cascade', but the trust file "
                              "configures no anchor for it.")


def test_x509_root_that_is_not_a_ca(public_jwk: dict[str, str], pki: Pki) -> None:
    """A leaf certificate listed as a root is refused: it is not a CA."""
    leaf = pki.leaf(keys.generate(), ["mimi://example.com"]).decode()
    assert refused(with_members(public_jwk, x509_roots=[pki.root, leaf])) == (
        "the trust file: x509_roots[1]: the CA root 'CN=Example IM,O=example.com' is not a CA "
        "certificate (basicConstraints CA:TRUE).")


def test_web_of_trust_master_key_must_be_public(public_jwk: dict[str, str]) -> None:
    """A private master key is refused, and the message never shows its d."""
    private = keys.generate().private_jwk()
    message = refused(with_members(public_jwk,
                                   web_of_trust={"id": ALICE, "master_key": private}))
    assert message == (f"{WOT}.master_key: the key holds a private key where a public key is "
                       "expected; give its public part only.")
    assert private["d"] not in message


def test_web_of_trust_id_is_a_user(public_jwk: dict[str, str],
                                   master_jwk: dict[str, str]) -> None:
    """The web of trust starts from a user or handle: a device identifier as id is refused."""
    message = refused(with_members(public_jwk, web_of_trust={
        "id": "im:alice/phone@example.com", "master_key": master_jwk}))
    assert message.startswith(f'{WOT}: "id" must be your user identifier')
