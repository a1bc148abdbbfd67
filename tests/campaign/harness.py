"""Running one example under the campaign's four oracles.

1. never an exception (the verifiers return reports; ``read_statement`` raises only
   ``StatementError``);
2. never ``valid`` when :mod:`campaign.oracle` refuses;
3. never a network connection (socket connects and name lookups are recorded and fail);
4. each verification within a time bound.

By default a broken oracle fails the test at once, so Hypothesis shrinks the example. With
``VC_IM_CAMPAIGN_TALLY=FILE`` each outcome is appended to FILE as one JSON line instead and
the run goes on: that is how the slow run counts exceptions and false accepts over every
example, to report them (``scripts/campaign_summary.py`` adds them up).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Seconds one verification may take (a hostile token must not buy the attacker time).
TIME_BOUND = float(os.environ.get("VC_IM_CAMPAIGN_TIME_BOUND", "2"))
TALLY = os.environ.get("VC_IM_CAMPAIGN_TALLY")


class NetworkAttempt(Exception):
    """Raised in place of any connection or name lookup during a verification."""


@contextlib.contextmanager
def no_network() -> Iterator[list[str]]:
    """Record and refuse every socket connect and address lookup inside the block."""
    attempts: list[str] = []
    saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection,
             socket.getaddrinfo, socket.gethostbyname)

    def refuse(what: str) -> Callable[..., Any]:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise NetworkAttempt(f"{what} attempted during verification")
        return blocked

    socket.socket.connect = refuse("socket.connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse("socket.connect_ex")  # type: ignore[method-assign]
    socket.create_connection = refuse("create_connection")
    socket.getaddrinfo = refuse("getaddrinfo")
    socket.gethostbyname = refuse("gethostbyname")
    try:
        yield attempts
    finally:
        socket.socket.connect, socket.socket.connect_ex = saved[:2]  # type: ignore[method-assign]
        socket.create_connection, socket.getaddrinfo, socket.gethostbyname = saved[2:]


@dataclass
class Outcome:
    """What one verification did."""

    result: Any = None
    error: BaseException | None = None
    trace: str = ""
    seconds: float = 0.0
    network: list[str] = field(default_factory=list)


def run(call: Callable[[], Any], expected: tuple[type[BaseException], ...] = ()) -> Outcome:
    """Call ``call`` with the network refused and the clock running; catch what it raises."""
    outcome = Outcome()
    with no_network() as attempts:
        start = time.perf_counter()
        try:
            outcome.result = call()
        except expected as exc:
            outcome.result = exc
        except Exception as exc:
            outcome.error = exc
            outcome.trace = traceback.format_exc()
        outcome.seconds = time.perf_counter() - start
    outcome.network = attempts
    return outcome


def judge(strategy: str, outcome: Outcome, *, accepted: bool,
          refusal: Callable[[], str | None], describe: Callable[[], str]) -> None:
    """Apply the oracles to one outcome: fail (or, in tally mode, record) what breaks one.

    ``accepted`` is whether vc_im called the input valid; ``refusal`` asks the independent
    oracle why it may not be (None: it may).
    """
    problems: list[str] = []
    kind = "valid" if accepted else "invalid"
    if outcome.error is not None:
        kind = "exception"
        problems.append(f"exception {type(outcome.error).__name__}: {outcome.error}\n"
                        f"{outcome.trace}")
    if outcome.network:
        problems.append(f"network attempts: {outcome.network}")
    if outcome.seconds > TIME_BOUND:
        problems.append(f"took {outcome.seconds:.2f} s (bound {TIME_BOUND} s)")
    if accepted:
        why = refusal()
        if why is not None:
            kind = "false_accept"
            problems.append(f"vc_im accepted what the oracle refuses: {why}")
    if TALLY:
        if not accepted and outcome.error is None and refusal() is None:
            kind = "refused_oracle_accepts"  # calibration only: vc_im is stricter here
        record = {"strategy": strategy, "kind": kind, "seconds": round(outcome.seconds, 4),
                  "verdict": _verdict(outcome.result),
                  "problems": [p.splitlines()[0] for p in problems],
                  "signature": _signature(outcome),
                  "example": describe() if problems or kind == "refused_oracle_accepts" else ""}
        with Path(TALLY).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        return
    assert not problems, "\n".join(problems) + "\n--- example ---\n" + describe()


def _verdict(result: Any) -> str:
    """The first failed check and its code (a nested report's when the failure is there)."""
    checks = getattr(result, "checks", None)
    if checks is None:
        return str(getattr(result, "code", ""))
    for check in checks:
        if check.code is not None:
            return f"{check.name}:{check.code}"
    for nested in getattr(result, "credentials", ()):
        inner = _verdict(nested)
        if inner:
            return "credential " + inner
    return ""


def _signature(outcome: Outcome) -> str:
    """Where an exception came from: its type and the innermost vc_im frame."""
    if outcome.error is None:
        return ""
    frames = [line.strip() for line in outcome.trace.splitlines()
              if line.strip().startswith("File") and "/vc_im/" in line]
    return f"{type(outcome.error).__name__} at {frames[-1] if frames else '?'}"
