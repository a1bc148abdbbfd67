"""Mutation testing of the verifier: does some test fail when one check is switched off?

For every step of vc_im's check tables (``CREDENTIAL_STEPS``, ``PRESENTATION_STEPS``,
``DPOP_STEPS`` and, with ``--kinds``, the issuer's ``CONTENT_STEPS``), run a selection of
the test suite in a subprocess with that one step replaced by a step that always passes
(``scripts/mutation_plugin.py``, loaded with ``-p``, reads ``VC_IM_DISABLE_CHECK``). A
mutant is *killed* when at least one test fails. With ``--campaign-examples N`` each
mutant of the verifier also faces the signed-mutant campaign (``tests/campaign``, N
examples per strategy, tally mode): it is *caught* when the campaign's independent oracle
sees a false accept, or an exception the unmutated verifier does not raise.

Usage::

    python scripts/mutate_checks.py [--jobs 2] [--campaign-examples 150] [--out FILE.md]

The selection runs the library in-process (CLI tests spawn processes the plugin does not
reach). Exit status: 0 when every mutant was killed, 1 when one survived, 2 on error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
#: Test modules that drive the verifier in this process.
SELECTION = (
    "tests/checks/test_credential.py", "tests/checks/test_presentation.py",
    "tests/checks/test_dpop.py", "tests/test_hardening.py", "tests/test_credentials.py",
    "tests/test_robustness.py", "tests/trust/test_trust_models.py", "tests/trust/test_wot.py",
    "tests/trust/test_wellknown.py", "tests/trust/test_x509.py", "tests/jose/test_jws.py",
    "tests/test_replay.py", "tests/test_status_lists.py",
)
KINDS = {"credential": "CREDENTIAL_STEPS", "presentation": "PRESENTATION_STEPS",
         "dpop": "DPOP_STEPS", "content": "CONTENT_STEPS"}
TIMEOUT = 1800


@dataclass(frozen=True)
class Result:
    """What became of one mutant."""

    spec: str
    suite: str  # killed / survived / error: ...
    first_failure: str
    campaign: str
    seconds: float


def checks(kinds: list[str]) -> list[str]:
    """KIND:NAME of every check in the tables asked for, in table order."""
    sys.path.insert(0, str(ROOT))
    import vc_im._checks as facade

    return [f"{kind}:{name}" for kind in kinds for name, _ in getattr(facade, KINDS[kind])]


def _env(spec: str | None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SCRIPTS), env.get("PYTHONPATH")]))
    env.pop("VC_IM_DISABLE_CHECK", None)
    env.pop("VC_IM_CAMPAIGN_TALLY", None)
    if spec is not None:
        env["VC_IM_DISABLE_CHECK"] = spec
    env.update(extra)
    return env


def _pytest(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-p", "mutation_plugin", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def run_suite(spec: str | None, selection: list[str]) -> tuple[str, str]:
    """(killed | survived | error: ..., the first failing test)."""
    done = _pytest(["-x", *selection], _env(spec))
    failed = next((line.split(" ", 2)[1] for line in done.stdout.splitlines()
                   if line.startswith(("FAILED ", "ERROR "))), "")
    if done.returncode == 1:
        return "killed", failed
    if done.returncode == 0:
        return "survived", ""
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["?"]
    return f"error: exit {done.returncode}: {tail[0][:120]}", failed


def run_campaign(spec: str | None, examples: int) -> tuple[int, set[str]]:
    """(false accepts, exception signatures) of the campaign against this mutant."""
    with tempfile.TemporaryDirectory(prefix="vc-im-mutant-") as scratch:
        tally = Path(scratch) / "tally.jsonl"
        _pytest(["tests/campaign"], _env(spec, VC_IM_CAMPAIGN_TALLY=str(tally),
                                         VC_IM_CAMPAIGN_EXAMPLES=str(examples)))
        lines = [json.loads(text) for text in tally.read_text().splitlines()] \
            if tally.exists() else []
    false_accepts = sum(1 for line in lines if line["kind"] == "false_accept")
    signatures = {line["signature"] for line in lines if line["kind"] == "exception"}
    return false_accepts, signatures


def mutate(spec: str, selection: list[str], examples: int, baseline: set[str]) -> Result:
    """Run the suite (and maybe the campaign) against one switched-off check."""
    start = time.monotonic()
    suite, failure = run_suite(spec, selection)
    campaign = "-"
    if examples and not spec.startswith("content:"):
        false_accepts, signatures = run_campaign(spec, examples)
        new = signatures - baseline
        if false_accepts:
            campaign = f"caught ({false_accepts} false accepts)"
        elif new:
            campaign = f"caught (new exception: {sorted(new)[0][:60]})"
        else:
            campaign = "not caught"
    return Result(spec, suite, failure, campaign, time.monotonic() - start)


def table(results: list[Result]) -> str:
    """The results as a Markdown table."""
    lines = ["| check switched off | test suite | first failing test | campaign oracle |",
             "|---|---|---|---|"]
    for r in results:
        lines.append(f"| `{r.spec}` | {r.suite} | {r.first_failure or '-'} | {r.campaign} |")
    killed = sum(1 for r in results if r.suite == "killed")
    caught = sum(1 for r in results if r.campaign.startswith("caught"))
    tried = sum(1 for r in results if r.campaign != "-")
    lines.append(f"\n{killed} of {len(results)} mutants killed by the test suite"
                 + (f"; {caught} of {tried} caught by the campaign's oracle" if tried else ""))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--kinds", default="credential,presentation,dpop,content")
    parser.add_argument("--only", help="one KIND:NAME, or several separated by commas")
    parser.add_argument("--campaign-examples", type=int, default=0)
    parser.add_argument("--tests", nargs="*", default=list(SELECTION))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    specs = args.only.split(",") if args.only else checks(args.kinds.split(","))
    status, failure = run_suite(None, args.tests)
    if status != "survived":
        print(f"the unmutated selection does not pass ({status}, {failure}); fix that first",
              file=sys.stderr)
        return 2
    baseline: set[str] = set()
    if args.campaign_examples:
        _, baseline = run_campaign(None, args.campaign_examples)
        if baseline:
            print("the unmutated verifier already raises: " + "; ".join(sorted(baseline)),
                  file=sys.stderr)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda spec: mutate(spec, args.tests, args.campaign_examples,
                                                     baseline), specs))
    text = table(results)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if all(r.suite == "killed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
