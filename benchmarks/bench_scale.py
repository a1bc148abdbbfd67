"""Print vc-im's speed at provider scale, every figure a ratio to the limit and to did-jwt-vc.

Run: ``python benchmarks/bench_scale.py [--count 10000] [--memory 1000,100000]``, after
``npm ci --prefix benchmarks/peer`` for the node peer (without node it prints
"peer skipped: node not found" and the rest). One run measures, on the same tokens:

* the limit: the raw Ed25519 verification (cryptography) of each presentation's two
  signatures, its own and its credential's;
* vc-im in process, stage by stage (parse, one credential, one presentation with the replay
  store);
* ``vc-im verify --batch`` of COUNT presentations (one credential each, every check and the
  replay store on) through the CLI, with ``--jobs 1`` and ``--jobs 2``, and two ``--jobs 1``
  processes on the two halves at once (what the machine's cores give two workers);
* ``vc-im issue --batch`` of COUNT credentials, every pre-sign check on;
* a cold ``vc-im verify`` of one presentation (vc_im's bytecode written first, as installing
  the package writes it), and node + did-jwt-vc verifying it;
* peak memory (max RSS) of a batch of the two --memory sizes;
* did-jwt-vc verifying the same presentations, and creating COUNT credentials.

This is a measurement, not a test: it asserts nothing about speed. On a shared machine the
absolute figures move with the load; the ratios, taken within one run, move much less.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import vc_im._jose.jws as jose
from vc_im import keys
from vc_im.credentials import issue_credential, verify_credential
from vc_im.presentations import create_presentation
from vc_im.replay import ReplayStore
from vc_im.times import now_seconds
from vc_im.trust import TrustedIssuer, TrustStore
from vc_im.verify import verify_token

ISSUER = "https://im.example.com"
AUDIENCE = "https://verifier.example.org"
PEER = Path(__file__).resolve().parent / "peer"


def device(number: int) -> str:
    """The IM identifier of device ``number`` of one user."""
    return f"im:SvPfLlwBQi-6oddVRrkqpw/{number:x}@example.com"


class Run:
    """One benchmark run's files, in a temporary directory."""

    def __init__(self, where: Path, count: int) -> None:
        self.where = where
        self.count = count
        self.now = now_seconds()
        self.issuer = keys.generate("Ed25519")
        self.trust = TrustStore.of(TrustedIssuer(ISSUER, (self.issuer.public(),),
                                                 frozenset({"example.com"})))
        (where / "trust.json").write_text(json.dumps({"issuers": [{
            "id": ISSUER, "keys": [dict(self.issuer.public().public_jwk)],
            "domains": ["example.com"]}]}))
        (where / "issuer.jwk").write_text(json.dumps(self.issuer.private_jwk()))
        self.tokens: list[str] = []
        self.nonces: list[str] = []
        self.holders: list[keys.Key] = []

    def make(self, count: int) -> None:
        """``count`` devices, each with its own key, credential and presentation."""
        for number in range(count):
            holder = keys.generate("Ed25519")
            credential = issue_credential(
                self.issuer, issuer=ISSUER, subject=device(number), fn="Alice M. Smith",
                organization="Example Corp", instant_messages=["im:%40alice_smith@example.com"],
                holder_key=holder.public(), now=self.now)
            nonce = f"nonce-{number}"
            self.tokens.append(create_presentation(holder, [credential], audience=AUDIENCE,
                                                   nonce=nonce, now=self.now, valid_for=300))
            self.nonces.append(nonce)
            self.holders.append(holder)

    def lines(self, name: str, count: int | None = None) -> Path:
        """A batch file of the presentations (or of ``count`` fresh ones of one device)."""
        path = self.where / name
        with path.open("w") as out:
            if count is None:
                for token, nonce in zip(self.tokens, self.nonces, strict=True):
                    out.write(json.dumps({"token": token, "nonce": nonce}) + "\n")
                return path
            holder = self.holders[0]
            credential = jose.peek_unverified(self.tokens[0]).payload["vp"][
                "verifiableCredential"][0]
            for number in range(count):
                nonce = f"memory-{number}"
                token = create_presentation(holder, [credential], audience=AUDIENCE,
                                            nonce=nonce, now=self.now, valid_for=300)
                out.write(json.dumps({"token": token, "nonce": nonce}) + "\n")
        return path


def vc_im(*args: str | Path, cwd: Path) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """Wall seconds and the result of one ``python -m vc_im`` process."""
    argv = [sys.executable, "-m", "vc_im", *map(str, args)]
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, capture_output=True, check=False,
                            stdin=subprocess.DEVNULL)
    return time.perf_counter() - start, result


#: Run vc-im and print its own peak RSS (VmHWM, kB) last on stderr: the high-water mark of
#: the process image after exec, not of the benchmark it was started from.
_PEAK_WRAPPER = (
    "import atexit, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as status:\n"
    "        for line in status:\n"
    "            if line.startswith('VmHWM:'):\n"
    "                sys.stderr.write(line.split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "sys.argv = ['vc-im', *sys.argv[1:]]\n"
    "from vc_im.cli import main\n"
    "main()\n")


def peak_rss_of(args: Sequence[str], cwd: Path) -> tuple[int, int]:
    """Peak RSS (KiB) of one ``vc-im ARGS`` process (Linux /proc) and its exit code."""
    result = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *args], cwd=cwd,
                            capture_output=True, text=True, check=False,
                            stdin=subprocess.DEVNULL)
    return int(result.stderr.strip().splitlines()[-1]), result.returncode


def median_time(function: Callable[[], object], rounds: int) -> float:
    """Median seconds of one call."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def raw_limit(run: Run) -> float:
    """Seconds per presentation to verify its two Ed25519 signatures with cryptography."""
    work = []
    for token in run.tokens:
        outer = jose.peek_unverified(token)
        inner = jose.peek_unverified(outer.payload["vp"]["verifiableCredential"][0])
        holder = Ed25519PublicKey.from_public_bytes(jose.b64url_decode(
            inner.payload["cnf"]["jwk"]["x"], what="x"))
        issuer = Ed25519PublicKey.from_public_bytes(jose.b64url_decode(
            run.issuer.public_jwk["x"], what="x"))
        work.append((holder, outer.signature, outer.signing_input))
        work.append((issuer, inner.signature, inner.signing_input))
    start = time.perf_counter()
    for key, signature, data in work:
        key.verify(signature, data)
    return (time.perf_counter() - start) / len(run.tokens)


def in_process(run: Run, sample: int) -> dict[str, float]:
    """Seconds per token of each stage, in this process, on ``sample`` of the tokens."""
    tokens = run.tokens[:sample]
    credentials = [jose.peek_unverified(t).payload["vp"]["verifiableCredential"][0]
                   for t in tokens]
    for token in tokens[:20]:  # warm-up: contexts, schemas, keys
        verify_token(token, run.trust, now=run.now, audience=AUDIENCE, nonce="warm-up",
                     store=run.where / "warm.db")
    out = {}
    start = time.perf_counter()
    for token in tokens:
        jose.peek_unverified(token)
    out["parse a presentation (strict JWS + JSON)"] = (time.perf_counter() - start) / sample
    start = time.perf_counter()
    for credential in credentials:
        verify_credential(credential, run.trust, now=run.now)
    out["verify one credential (every check)"] = (time.perf_counter() - start) / sample
    with ReplayStore.open(run.where / "in-process.db") as store:
        start = time.perf_counter()
        for token, nonce in zip(tokens, run.nonces, strict=False):
            assert verify_token(token, run.trust, now=run.now, audience=AUDIENCE, nonce=nonce,
                                store=store).ok
        out["verify one presentation (+ its credential, store)"] = (
            (time.perf_counter() - start) / sample)
    return out


def node() -> str | None:
    """The node executable, when there is one and the peer's packages are installed."""
    found = shutil.which("node")
    if found is None:
        print("peer skipped: node not found")
        return None
    if not (PEER / "node_modules" / "did-jwt-vc").is_dir():
        print("peer skipped: run npm ci --prefix benchmarks/peer")
        return None
    return found


def byte_compile() -> None:
    """Write vc_im's bytecode, as installing the package does. An editable install run with
    PYTHONDONTWRITEBYTECODE set would otherwise compile every module again in each process
    the benchmark starts, and the cold start would measure Python's compiler."""
    import compileall

    import vc_im

    compileall.compile_dir(Path(vc_im.__file__).parent, quiet=1)
    print("vc_im's bytecode written (as installing the package writes it)")


def main() -> None:
    """Make the tokens, measure everything, print the table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="presentations and "
                        "credentials in the batches (default 10000)")
    parser.add_argument("--memory", default="1000,100000", help="the two batch sizes whose "
                        "peak memory is compared (default 1000,100000)")
    parser.add_argument("--cold-rounds", type=int, default=5)
    options = parser.parse_args()
    small, large = (int(n) for n in options.memory.split(","))
    byte_compile()
    with tempfile.TemporaryDirectory(prefix="vc-im-bench-") as directory:
        where = Path(directory)
        run = Run(where, options.count)
        started = time.perf_counter()
        run.make(options.count)
        print(f"made {options.count} devices, credentials and presentations in "
              f"{time.perf_counter() - started:.1f} s; measuring...", flush=True)
        report(run, where, options, small, large)


def report(run: Run, where: Path, options: argparse.Namespace, small: int, large: int,
           ) -> None:
    """Measure and print."""
    count = options.count
    limit = raw_limit(run)
    stages = in_process(run, min(count, 1000))
    batch_file = run.lines("batch.jsonl")
    batch = {}
    for jobs in (1, 2):
        seconds, result = vc_im("verify", "--trust", "trust.json", "--audience", AUDIENCE,
                                   "--now", str(run.now + 1), "--store", f"jobs{jobs}.db",
                                   "--batch", batch_file, "--jobs", str(jobs), cwd=where)
        assert result.returncode == 0, result.stderr.decode()[-500:]
        batch[jobs] = seconds / count
    ceiling = two_processes_speedup(run, where, batch_file, batch[1] * count)
    issue_file = where / "issue.jsonl"
    with issue_file.open("w") as out:
        for number, holder in enumerate(run.holders):
            out.write(json.dumps({"subject": device(number), "fn": "Alice M. Smith",
                                  "org": "Example Corp",
                                  "holder_key": dict(holder.public().public_jwk)}) + "\n")
    issuing = {}
    for jobs in (1, 2):
        seconds, result = vc_im("issue", "--key", "issuer.jwk", "--issuer", ISSUER,
                                   "--batch", issue_file, "--jobs", str(jobs), cwd=where)
        assert result.returncode == 0, result.stderr.decode()[-500:]
        issuing[jobs] = seconds / count
    (where / "one.jwt").write_text(run.tokens[0])
    (where / "one.jsonl").write_text(json.dumps({"token": run.tokens[0],
                                                 "nonce": run.nonces[0]}) + "\n")
    cold_runs = []
    for attempt in range(options.cold_rounds):
        seconds, result = vc_im("verify", "--trust", "trust.json", "--audience", AUDIENCE,
                                   "--nonce", run.nonces[0], "--now", str(run.now + 1),
                                   "--store", f"cold{attempt}.db", "one.jwt", cwd=where)
        assert result.returncode == 0, result.stdout.decode()[-500:]
        cold_runs.append(seconds)
    cold = statistics.median(cold_runs)
    memory = {}
    for size in (small, large):
        path = run.lines(f"memory{size}.jsonl", size)
        peak, code = peak_rss_of(["verify", "--trust",
                                  "trust.json", "--audience", AUDIENCE, "--now",
                                  str(run.now + 1), "--store", f"memory{size}.db", "--batch",
                                  str(path)], where)
        assert code == 0, f"memory batch of {size} exited {code}"
        memory[size] = peak
    peer = peer_figures(run, where, batch_file, count)

    def vs(seconds: float, peer_seconds: float | None) -> str:
        ratio = f"{seconds / limit:7.1f}x limit"
        if peer_seconds is None:
            return ratio
        faster = peer_seconds / seconds
        return f"{ratio}   {faster:5.2f}x {'faster' if faster >= 1 else 'as fast'} than " \
               "did-jwt-vc"

    print(f"\nvc-im at scale: {count} presentations (Ed25519, one credential each, every "
          f"check and the replay store on); Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores; one run, ratios within it\n")
    print(f"  {'the limit: raw Ed25519, 2 verifies per presentation':<58}"
          f"{limit * 1e6:9.0f} µs")
    for name, seconds in stages.items():
        print(f"  {'in process: ' + name:<58}{seconds * 1e6:9.0f} µs {vs(seconds, None)}")
    peer_verify = peer.get("verify")
    for jobs, seconds in batch.items():
        print(f"  {f'CLI verify --batch, {count} lines, --jobs {jobs}':<58}"
              f"{seconds * 1e6:9.0f} µs {vs(seconds, peer_verify)}")
    print(f"  {'--jobs 2 speed-up over --jobs 1':<58}{batch[1] / batch[2]:9.2f}x")
    print(f"  {'two --jobs 1 processes at once, each on half: speed-up':<58}{ceiling:9.2f}x"
          "   (what this machine's cores give)")
    peer_create = peer.get("create")
    for jobs, seconds in issuing.items():
        rate = f"{1 / seconds:9.0f}/s"
        versus = (f"   {peer_create / seconds:5.2f}x did-jwt-vc's create rate"
                  if peer_create else "")
        print(f"  {f'CLI issue --batch, {count} credentials, --jobs {jobs}':<58}{rate}{versus}")
    cold_peer = peer.get("cold")
    versus = f"   {cold / cold_peer:5.2f}x node + did-jwt-vc" if cold_peer else ""
    print(f"  {'cold vc-im verify of one presentation':<58}{cold * 1e3:9.0f} ms{versus}")
    print(f"  {f'peak memory, batch of {small} / of {large}':<58}"
          f"{memory[small] / 1024:6.1f} / {memory[large] / 1024:.1f} MiB "
          f"(ratio {memory[large] / memory[small]:.2f})")
    if peer_verify:
        print(f"  {'did-jwt-vc, the same presentations, in one process':<58}"
              f"{peer_verify * 1e6:9.0f} µs {peer_verify / limit:7.1f}x limit")
    if cold_peer:
        print(f"  {'did-jwt-vc, cold node verifying one presentation':<58}"
              f"{cold_peer * 1e3:9.0f} ms")


def two_processes_speedup(run: Run, where: Path, batch_file: Path, one: float) -> float:
    """How much faster two independent ``--jobs 1`` processes, each on half of the batch and
    run at once, finish than one process on all of it (``one`` seconds): the most that two
    workers can give on this machine, whatever the pipeline."""
    lines = batch_file.read_bytes().splitlines(keepends=True)
    halves = [where / "half0.jsonl", where / "half1.jsonl"]
    halves[0].write_bytes(b"".join(lines[: len(lines) // 2]))
    halves[1].write_bytes(b"".join(lines[len(lines) // 2:]))
    start = time.perf_counter()
    processes = [subprocess.Popen(
        [sys.executable, "-m", "vc_im", "verify", "--trust", "trust.json", "--audience",
         AUDIENCE, "--now", str(run.now + 1), "--store", f"half{number}.db", "--batch",
         str(half), "--jobs", "1"], cwd=where, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        for number, half in enumerate(halves)]
    codes = [process.wait() for process in processes]
    assert codes == [0, 0], codes
    return one / (time.perf_counter() - start)


def peer_figures(run: Run, where: Path, batch_file: Path, count: int) -> dict[str, float]:
    """did-jwt-vc's seconds per presentation, per credential created, and cold."""
    executable = node()
    if executable is None:
        return {}
    script = str(PEER / "peer.mjs")
    at = str(run.now + 1)
    out = subprocess.run([executable, script, "verify", "trust.json", AUDIENCE,
                          str(batch_file), at], cwd=where, capture_output=True, text=True,
                         check=True)
    verified = json.loads(out.stdout)
    assert verified["valid"] == count, verified
    created = json.loads(subprocess.run([executable, script, "create", str(count)], cwd=where,
                                        capture_output=True, text=True, check=True).stdout)
    cold = median_time(lambda: subprocess.run(
        [executable, script, "verify", "trust.json", AUDIENCE, "one.jsonl", at], cwd=where,
        capture_output=True, check=True), 5)
    return {"verify": verified["ms"] / 1000 / count, "create": created["ms"] / 1000 / count,
            "cold": cold}


if __name__ == "__main__":
    main()
