"""The batch engine (vc_im.batch): the same reports as verifying one token after another,
whatever the number of workers; consumption durable before a report is handed out; bad
lines reported, never fatal; a dead worker reported, never waited for."""

from __future__ import annotations

import io
import itertools
import json
import os
import pickle
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DEVICE, HANDLE, ISSUER, NOW, VERIFIER
from tests.helpers.backends import cleaned, unique_url
from vc_im import keys
from vc_im.batch import (
    MAX_LINE_BYTES,
    IssueSettings,
    LineReport,
    VerifySettings,
    WorkerLost,
    issue_batch,
    read_lines,
    resolve_jobs,
    verify_batch,
    verify_batch_text,
)
from vc_im.cli._common import json_printable
from vc_im.cli.verifying import report_json
from vc_im.credentials import verify_credential
from vc_im.errors import InputError
from vc_im.presentations import create_presentation
from vc_im.replay import PresentationUse, ReplayOutcome, ReplayStore, open_store
from vc_im.trust import TrustStore
from vc_im.verify import verify_token


def _line(token: str, nonce: str, line_id: object = None) -> bytes:
    return json.dumps({"token": token, "nonce": nonce, "id": line_id}).encode()


@pytest.fixture(scope="module")
def mixed_lines(make_credential: Callable[..., str], device_key: keys.Key) -> list[bytes]:
    """Valid presentations, a replayed one, one reusing another's nonce, an expired one,
    a credential where a presentation is expected, and lines that cannot be read."""
    credential = make_credential()
    vps = [create_presentation(device_key, [credential], audience=VERIFIER, nonce=f"n{i}",
                               now=NOW, valid_for=300) for i in range(5)]
    same_nonce = create_presentation(device_key, [credential], audience=VERIFIER, nonce="n1",
                                     now=NOW, valid_for=300)
    stale = create_presentation(device_key, [credential], audience=VERIFIER, nonce="n9",
                                now=NOW - 3600, valid_for=300)
    return [_line(vps[0], "n0", "a"), _line(vps[1], "n1", 7), vps[2].encode(),
            _line(vps[0], "n0", "again"), _line(same_nonce, "n1"), _line(stale, "n9"),
            credential.encode(), b"not a token", b'{"token": 5}', b"[1]",
            b'{"token": "x", "extra": 1}', b'{"token": "x", "id": true}', b"",
            _line(vps[3], "n3"), _line(vps[4], "n4")]


def _one_by_one(lines: list[bytes], trust: TrustStore, store: ReplayStore) -> list[object]:
    """What verifying each line alone, in order, reports (the reference the batch must match);
    a line that is no token gets the format check's malformed report either way."""
    out: list[object] = []
    for data in lines:
        token, nonce = (data, "n2") if not data.startswith(b"{") else (None, None)
        if token is None:
            try:
                value = json.loads(data)
                token, nonce = value["token"].encode(), value["nonce"]
            except (KeyError, TypeError, AttributeError):
                out.append(None)
                continue
        out.append(verify_token(token, trust, now=NOW + 10, audience=VERIFIER, nonce=nonce,
                                store=store).to_json())
    return out


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_reports_equal_verifying_one_after_another(
        mixed_lines: list[bytes], trust: TrustStore, tmp_path: Path, jobs: int) -> None:
    """Every line's report is the one verify_token gives for it alone, in input order, with any
    number of workers: the replays and the reused nonce included."""
    with ReplayStore.open(tmp_path / "single.db") as single:
        expected = _one_by_one(mixed_lines, trust, single)
    with ReplayStore.open(tmp_path / "batch.db") as store:
        results = list(verify_batch(mixed_lines, VerifySettings(
            trust, now=NOW + 10, audience=VERIFIER, nonce="n2"), store, jobs=jobs))
    assert [item.line for item in results] == list(range(1, len(mixed_lines) + 1))
    assert [item.id for item in results][:4] == ["a", 7, None, "again"]
    for item, reference in zip(results, expected, strict=True):
        if reference is None:
            assert item.report.code == "malformed", item
            assert item.report.checks[0].name == "format"
        else:
            assert item.report.to_json() == reference, item.line
    codes = [item.report.code for item in results]
    assert codes[:7] == [None, None, None, "replay", "replay", "bad_iat", "bad_type"]
    assert codes[-2:] == [None, None]


def test_jobs_two_equals_jobs_one_over_many_chunks(
        make_credential: Callable[..., str], device_key: keys.Key, trust: TrustStore,
        tmp_path: Path) -> None:
    """Across several chunks and both workers, with nonces reused far apart, the verdicts and
    reports are those of one process."""
    credential = make_credential()
    tokens = [create_presentation(device_key, [credential], audience=VERIFIER,
                                  nonce=f"n{i % 150}", now=NOW, valid_for=300)
              for i in range(200)]
    lines = [_line(token, f"n{i % 150}", i) for i, token in enumerate(tokens)]
    reports = []
    for jobs in (1, 2):
        with ReplayStore.open(tmp_path / f"jobs{jobs}.db") as store:
            reports.append([item.report.to_json() for item in verify_batch(
                lines, VerifySettings(trust, now=NOW + 5, audience=VERIFIER), store,
                jobs=jobs)])
    assert reports[0] == reports[1]
    assert sum(report["ok"] is True for report in reports[0]) == 150


def test_a_report_is_handed_out_only_once_its_consumption_committed(
        mixed_lines: list[bytes], trust: TrustStore, tmp_path: Path) -> None:
    """When the first valid report comes out, another connection already finds its nonce
    consumed: it was committed (durable) before the report was given."""
    path = tmp_path / "replay.db"
    with ReplayStore.open(path) as store:
        batch = verify_batch(mixed_lines, VerifySettings(trust, now=NOW + 10,
                                                         audience=VERIFIER), store)
        first = next(batch)
        assert first.report.ok
        with ReplayStore.open(path) as other:
            assert other.consume_presentation(
                nonce="n0", issuer=DEVICE, jti="never-seen", now=NOW + 10,
                expires_at=NOW + 1000) is ReplayOutcome.REPLAY
        batch.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_store_fails_every_presentation_closed(
        mixed_lines: list[bytes], trust: TrustStore) -> None:
    """A store that cannot be reached fails the replay check (store_unavailable): no
    presentation is reported valid, and the batch goes on."""
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"
    results = list(verify_batch(mixed_lines, VerifySettings(trust, now=NOW + 10,
                                                            audience=VERIFIER), url))
    assert len(results) == len(mixed_lines)
    assert not any(item.report.ok for item in results)
    assert results[0].report.code == "store_unavailable"
    assert results[0].report.checks[-1].name == "replay"


def test_a_presentation_without_a_store_is_an_input_error(
        mixed_lines: list[bytes], trust: TrustStore) -> None:
    """As for one token: accepting a presentation needs a replay store."""
    with pytest.raises(InputError, match="replay store"):
        list(verify_batch(mixed_lines, VerifySettings(trust, now=NOW + 10,
                                                      audience=VERIFIER), None))


def test_bad_lines_get_malformed_reports(trust: TrustStore, tmp_path: Path) -> None:
    """Unreadable lines each get a report whose format check names the problem."""
    lines = [b"{", b'{"token": "a", "audience": 1}', b'{"token": "a", "nonce": "n", '
             b'"nonce": "m"}', None]
    results = list(verify_batch(lines, VerifySettings(trust, now=NOW), tmp_path / "r.db"))
    reasons = [item.report.checks[0].reason for item in results]
    assert [item.report.code for item in results] == ["malformed"] * 3 + ["too_large"]
    assert "not valid JSON" in reasons[0]
    assert "audience must be a string" in reasons[1]
    assert "appears twice" in reasons[2]


def test_read_lines_skips_an_overlong_line_without_holding_it() -> None:
    """A line longer than the limit is one None; the lines around it are intact, and CRLF
    endings are dropped."""
    data = b"a\r\n" + b"x" * (3 * 100) + b"\nb\nlast"
    assert list(read_lines(io.BytesIO(data), limit=100)) == [b"a", None, b"b", b"last"]
    assert MAX_LINE_BYTES > 65536


def test_resolve_jobs() -> None:
    """0 is one per usable core; negative is refused."""
    assert resolve_jobs(3) == 3
    assert resolve_jobs(0) >= 1
    with pytest.raises(InputError):
        resolve_jobs(-1)


def test_reports_and_public_keys_cross_process_boundaries(
        mixed_lines: list[bytes], trust: TrustStore, tmp_path: Path,
        issuer_key: keys.Key) -> None:
    """A report (with its verified presentation and keys) pickles to an equal report; a
    private key never pickles."""
    with ReplayStore.open(tmp_path / "r.db") as store:
        report = next(verify_batch(mixed_lines, VerifySettings(
            trust, now=NOW + 10, audience=VERIFIER), store)).report
    copy = pickle.loads(pickle.dumps(report))  # noqa: S301  (our own bytes)
    assert copy == report
    assert copy.verified == report.verified
    assert pickle.loads(pickle.dumps(issuer_key.public())) == issuer_key.public()  # noqa: S301
    with pytest.raises(TypeError, match="private"):
        pickle.dumps(issuer_key)


def test_a_dead_worker_ends_the_batch_instead_of_hanging(
        make_credential: Callable[..., str], trust: TrustStore) -> None:
    """Killing a worker mid-batch raises WorkerLost naming the first line not processed."""
    import multiprocessing

    credential = make_credential().encode()

    def lines() -> Iterator[bytes]:
        for number in itertools.count(1):
            if number == 200:
                children = multiprocessing.active_children()
                assert children
                os.kill(children[0].pid or 0, signal.SIGKILL)
                children[0].join()
            if number > 2000:
                return
            yield credential

    with pytest.raises(WorkerLost, match=r"line \d+ and the lines after it"):
        for _ in verify_batch(lines(), VerifySettings(trust, now=NOW), None, jobs=2):
            pass


# --- rendered in the workers ---------------------------------------------------------------

def _rendered(items: list[LineReport]) -> str:
    """The lines the CLI wrote when the main process rendered each settled report itself."""
    return "".join(json_printable(json.dumps(
        {"line": item.line, "id": item.id, **report_json(item.report)}, ensure_ascii=False,
        separators=(",", ":"))) + "\n" for item in items)


@pytest.fixture(scope="module")
def replayed_lines(make_credential: Callable[..., str], device_key: keys.Key,
                   mixed_lines: list[bytes]) -> list[bytes]:
    """Three chunks' worth: each nonce used again 100 lines later (in another chunk), a line
    repeated right after itself (in its chunk), and the mixed lines (bad ones included)."""
    credential = make_credential()
    lines = [_line(create_presentation(device_key, [credential], audience=VERIFIER,
                                       nonce=f"r{i % 100}", now=NOW, valid_for=300),
                   f"r{i % 100}", f"\x1b[31m\u202e{i}") for i in range(150)]
    lines.insert(11, lines[10])
    return [*lines[:70], *mixed_lines, *lines[70:]]


@pytest.mark.parametrize("jobs", [1, 2])
def test_rendered_lines_are_the_settled_reports_rendered(
        replayed_lines: list[bytes], trust: TrustStore, tmp_path: Path, jobs: int) -> None:
    """The text of verify_batch_text, with one job or two, is byte for byte the settled
    reports of verify_batch rendered: replays inside a chunk and across chunks, malformed
    lines and hostile ids included; each line's code is its report's."""
    batch = VerifySettings(trust, now=NOW + 10, audience=VERIFIER, nonce="n2")
    with ReplayStore.open(tmp_path / "reports.db") as store:
        reports = list(verify_batch(replayed_lines, batch, store))
    with ReplayStore.open(tmp_path / "text.db") as store:
        chunks = list(verify_batch_text(replayed_lines, batch, store, jobs=jobs))
    assert "".join(text for text, _ in chunks) == _rendered(reports)
    assert [code for _, codes in chunks for code in codes] == [
        "valid" if item.report.ok else item.report.code for item in reports]
    codes = [code for _, codes in chunks for code in codes]
    assert codes[11] == "replay"
    assert codes.count("replay") >= 52
    assert len(chunks) == -(-len(replayed_lines) // 64)


def test_rendered_lines_when_the_store_refuses(replayed_lines: list[bytes],
                                               trust: TrustStore) -> None:
    """An unreachable store: every presentation's line is settled store_unavailable, byte for
    byte as its settled report renders, with one job or two."""
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"
    batch = VerifySettings(trust, now=NOW + 10, audience=VERIFIER)
    expected = _rendered(list(verify_batch(replayed_lines[:80], batch, url)))
    assert '"code":"store_unavailable"' in expected
    for jobs in (1, 2):
        chunks = list(verify_batch_text(replayed_lines[:80], batch, url, jobs=jobs))
        assert "".join(text for text, _ in chunks) == expected
        assert "valid" not in [code for _, codes in chunks for code in codes]


def test_a_rendered_chunk_is_handed_out_only_once_its_consumption_committed(
        replayed_lines: list[bytes], trust: TrustStore, tmp_path: Path) -> None:
    """When the first chunk's text comes out, another connection already finds its first
    nonce consumed."""
    path = tmp_path / "replay.db"
    with ReplayStore.open(path) as store:
        batch = verify_batch_text(replayed_lines, VerifySettings(
            trust, now=NOW + 10, audience=VERIFIER), store, jobs=2)
        text, codes = next(batch)
        assert codes[0] == "valid"
        assert text.count("\n") == 64
        with ReplayStore.open(path) as other:
            assert other.consume_presentation(
                nonce="r0", issuer=DEVICE, jti="never-seen", now=NOW + 10,
                expires_at=NOW + 1000) is ReplayOutcome.REPLAY
        batch.close()


# --- group consumption ---------------------------------------------------------------------

#: Uses a few seconds apart, some kept only a second or two: rows that stop counting while
#: the group is decided.
_USES = st.lists(st.builds(
    lambda nonce, issuer, jti, now, kept: PresentationUse(nonce, issuer, jti, now, now + kept),
    nonce=st.sampled_from(["n1", "n2", "n3"]), issuer=st.sampled_from([DEVICE, HANDLE]),
    jti=st.sampled_from(["j1", "j2", "j3", "j4"]), now=st.integers(NOW, NOW + 3),
    kept=st.one_of(st.integers(1, 3), st.integers(4, 600))), max_size=12)


@settings(max_examples=60, deadline=None)
@given(uses=_USES)
def test_group_consumption_equals_one_after_another(tmp_path_factory: pytest.TempPathFactory,
                                                    uses: list[PresentationUse]) -> None:
    """For every sequence of uses (replays, reused nonces, issued nonces), one transaction
    gives the outcomes and the store contents of consuming them one at a time."""
    directory = tmp_path_factory.mktemp("group")
    with ReplayStore.open(directory / "one.db") as one, \
            ReplayStore.open(directory / "group.db") as group:
        issued: dict[ReplayStore, str] = {}

        def mine(store: ReplayStore) -> list[PresentationUse]:
            """n3 stands for a nonce the store issued, valid for 2 seconds."""
            issued[store] = store.issue_nonce(now=NOW, ttl=2, purge=False)
            return [PresentationUse(issued[store], u.issuer, u.jti, u.now, u.expires_at)
                    if u.nonce == "n3" else u for u in uses]

        expected = [one.consume_presentation(nonce=u.nonce, issuer=u.issuer, jti=u.jti,
                                             now=u.now, expires_at=u.expires_at)
                    for u in mine(one)]
        assert group.consume_presentations(mine(group)) == expected
        assert group.stats(now=NOW) == one.stats(now=NOW)
        assert _rows(group, issued[group]) == _rows(one, issued[one])


def _rows(store: ReplayStore, issued: str) -> tuple[list[object], list[object]]:
    """Every row of the store's nonce and seen tables, the issued nonce's key (random, so
    each store's own) written as "n3"."""
    from vc_im.replay._base import replay_key

    conn = store._conn
    mine = replay_key("nonce", issued)
    nonces = sorted(("n3" if key == mine else key.hex(), *rest)
                    for key, *rest in conn.execute("SELECT * FROM nonce"))
    return nonces, sorted(conn.execute("SELECT * FROM seen"))


@pytest.mark.parametrize("kind", ["postgresql", "redis"])
def test_network_stores_consume_a_group_like_one_after_another(kind: str,
                                                               tmp_path: Path) -> None:
    """PostgreSQL's group transaction (savepoints) and Redis's one-by-one fallback give the
    outcomes of consuming one at a time."""
    from vc_im.batch import _consume_group

    uses = [PresentationUse(nonce, DEVICE, jti, NOW, NOW + 300)
            for nonce, jti in [("a", "1"), ("a", "2"), ("b", "1"), ("c", "3"), ("c", "3")]]
    for url in cleaned(unique_url(kind, str(tmp_path))):
        with open_store(url) as store:
            assert _consume_group(store, uses) == [
                ReplayOutcome.ACCEPTED, ReplayOutcome.REPLAY, ReplayOutcome.REPLAY,
                ReplayOutcome.ACCEPTED, ReplayOutcome.REPLAY]


# --- issuing -------------------------------------------------------------------------------

def _issue_line(**members: object) -> bytes:
    return json.dumps({"subject": DEVICE, "fn": "Alice", **members}).encode()


@pytest.mark.parametrize("jobs", [1, 2])
def test_issue_batch_signs_good_lines_and_reports_bad_ones(
        issuer_key: keys.Key, device_key: keys.Key, trust: TrustStore, jobs: int) -> None:
    """Each good line gives a credential that verifies (holder key bound); each bad line its
    error, in input order."""
    lines = [_issue_line(holder_key=dict(device_key.public_jwk), org="Example Corp"),
             _issue_line(subject="not an identifier", no_holder_key=True),
             b"{]",
             _issue_line(type="user", subject=HANDLE, im=[DEVICE], valid_for="1d"),
             _issue_line(colour="red"),
             _issue_line(),
             _issue_line(no_holder_key=True),
             _issue_line(no_holder_key=True, holder_key=dict(device_key.public_jwk))]
    results = list(issue_batch(lines, IssueSettings(issuer_key, ISSUER, NOW), jobs=jobs))
    assert [item.line for item in results] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [item.error is None for item in results] == [True, False, False, True, False,
                                                        False, True, False]
    assert "not a valid IM identifier" in str(results[1].error)
    assert "'colour'" in str(results[4].error)
    assert "without holder_key binds no key" in str(results[5].error)
    assert "contradict" in str(results[7].error)
    unbound = verify_credential(str(results[6].token), trust, now=NOW)
    assert unbound.ok
    assert unbound.verified.bound_thumbprint is None  # type: ignore[union-attr]
    first = verify_credential(str(results[0].token), trust, now=NOW)
    assert first.ok, first.to_json()
    assert first.verified.holder_key == device_key.public()  # type: ignore[union-attr]
    fourth = verify_credential(str(results[3].token), trust, now=NOW)
    assert fourth.ok
    assert fourth.verified.expires_at == NOW + 86400  # type: ignore[union-attr]
    assert results[0].to_json() == {"line": 1, "subject": DEVICE, "token": results[0].token}
    assert set(results[1].to_json()) == {"line", "error"}


def test_issue_batch_checks_every_line_before_signing_any(issuer_key: keys.Key) -> None:
    """Input that breaks off after good lines yields no credential at all: nothing is signed
    until every line was read and checked."""
    def lines() -> Iterator[bytes]:
        yield _issue_line(no_holder_key=True)
        yield _issue_line(no_holder_key=True)
        raise OSError("the input broke off")

    batch = issue_batch(lines(), IssueSettings(issuer_key, ISSUER, NOW))
    with pytest.raises(OSError, match="broke off"):
        next(batch)
