"""An atheris fuzz target over :func:`vc_im.verify.verify_token`.

Run it (not part of CI; atheris is not a dependency)::

    pip install atheris
    python fuzz/make_corpus.py /tmp/vc-im-corpus
    python fuzz/fuzz_verify.py /tmp/vc-im-corpus -max_total_time=600

The first byte of an input picks a mode (:data:`fuzz_world.MODES`): the rest is verified
as it is, or after its header and payload are signed again with the trusted issuer's key
(so that mutations get past the signature, where most checks are), as a credential or as
a presentation (with an audience and a nonce). The target fails on any exception escaping
the verifier: verify_token returns a report for every input. A replay store is kept in a
temporary directory and removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import fuzz_world as world

    from vc_im.report import Report
    from vc_im.verify import verify_token

_TRUST = world.trust()
_ISSUER = world.issuer_key()
_STORE_DIR = Path(tempfile.mkdtemp(prefix="vc-im-fuzz-"))
atexit.register(shutil.rmtree, _STORE_DIR, ignore_errors=True)
_STORE = _STORE_DIR / "replay.sqlite3"


def test_one_input(data: bytes) -> None:
    """Verify one input; any exception is a finding."""
    if not data:
        return
    mode, token = world.MODES[data[0] % len(world.MODES)], data[1:]
    if mode.startswith("re-signed"):
        token = world.resign(token, _ISSUER)
    presentation = mode.endswith("presentation")
    report = verify_token(token, _TRUST, now=world.NOW,
                          audience=world.VERIFIER if presentation else None,
                          nonce=world.NONCE if presentation else None, store=_STORE)
    if not isinstance(report, Report):
        raise TypeError(f"verify_token returned {type(report).__name__}")


def main() -> None:
    """Hand the target to libFuzzer with the command line's options."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
