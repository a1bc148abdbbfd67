"""pyld is imported with its network document loaders unavailable: its default loader is the
one that fetches nothing, and a verification does not pull in aiohttp."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.cli import TIMEOUT

_PROBE = """
import sys
from vc_im._linked import jsonld
jsonld._import_pyld()
import pyld.jsonld as pyld_jsonld
loader = pyld_jsonld._default_document_loader
print(loader.__qualname__)
print("aiohttp" in sys.modules, "requests" in sys.modules)
try:
    loader("https://example.com/context", {})
except Exception as exc:
    print(type(exc).__name__)
import aiohttp  # still importable afterwards, for whoever needs it
print(aiohttp.__name__)
"""


def test_pyld_default_loader_fetches_nothing() -> None:
    """In a fresh process: pyld's default loader is its dummy loader (it raises for any URL),
    neither aiohttp nor requests was imported for it, and aiohttp stays importable."""
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                            timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    qualname, imported, raised, later = result.stdout.splitlines()
    assert qualname.startswith("dummy_document_loader")
    assert imported == "False False"
    assert raised == "JsonLdError"
    assert later == "aiohttp"
