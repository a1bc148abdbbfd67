"""The architecture's promises, executable: the public API, layers, private packages, sizes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import vc_im

PACKAGE = Path(vc_im.__file__).resolve().parent

#: The public API, pinned: adding or removing a name is a decision, made here on purpose.
PUBLIC_API = [
    "AccessToken", "Check", "Code", "Credential", "CredentialType", "Encoding", "Evidence",
    "IdType", "IdentifierError", "ImId", "InputError", "Key", "KeyFileError", "Presentation",
    "Proof", "ReplayOutcome", "ReplayStore", "ReplayStoreError", "Report", "Status", "Subject",
    "TokenError", "TrustFileError", "TrustStore", "TrustedIssuer", "VcImError",
    "VerificationFailed", "__version__", "create_presentation", "create_proof",
    "generate_key", "issue_access_token", "issue_credential", "key_from_jwk", "load_key",
    "parse_identifier", "parse_trust", "read_key_file", "read_trust_file", "resolve_did",
    "verify_access_token", "verify_credential", "verify_presentation", "verify_proof",
    "verify_token",
]


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path, *, import_time_only: bool) -> set[str]:
    """The vc_im modules ``path`` imports (all of them, or only those loaded at import time:
    module level, outside ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = next(n for n, p in MODULES.items() if p == path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes: list[ast.AST]
    if import_time_only:
        nodes = [node for node in tree.body if not (
            isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))]
        nodes = [inner for node in nodes for inner in ast.walk(node)
                 if not isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    else:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {module for module in found if module == "vc_im" or module.startswith("vc_im.")}


def test_public_api_is_pinned() -> None:
    """vc_im.__all__ is exactly the public API, and every name in it resolves."""
    assert sorted(vc_im.__all__) == sorted(PUBLIC_API)
    for name in vc_im.__all__:
        assert getattr(vc_im, name) is not None, name


def test_public_api_loads_lazily() -> None:
    """import vc_im loads none of its submodules; a name loads only what it needs."""
    code = ("import sys, vc_im; before = sorted(m for m in sys.modules if m.startswith('vc_im.'));"
            " vc_im.parse_identifier; after = sorted(m for m in sys.modules"
            " if m.startswith('vc_im.')); print(before, after)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[] ['vc_im.identifiers']"


def test_public_names_are_the_modules_own() -> None:
    """A public name is the very object its module defines (no copies that could drift)."""
    from vc_im import identifiers, keys, report

    assert vc_im.parse_identifier is identifiers.parse
    assert vc_im.generate_key is keys.generate
    assert vc_im.Code is report.Code


def test_unknown_attribute_is_an_attribute_error() -> None:
    """A misspelt name fails as Python users expect."""
    with pytest.raises(AttributeError, match="no attribute 'verify_tokens'"):
        _ = vc_im.verify_tokens  # type: ignore[attr-defined]


def test_import_time_graph_has_no_cycle() -> None:
    """Imports made at import time only go down: the graph of vc_im modules is acyclic."""
    graph = {name: _imports(path, import_time_only=True) - {name}
             for name, path in MODULES.items()}
    # A package's own __init__ importing its submodules is its facade, not a cycle.
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        trail.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt):], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt in graph and state.get(nxt) is None:
                visit(nxt)
        trail.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)


def test_no_library_module_imports_the_cli() -> None:
    """Nothing outside vc_im.cli imports it or typer, even lazily."""
    offenders = []
    for name, path in MODULES.items():
        if name.startswith("vc_im.cli") or name == "vc_im.__main__":
            continue
        text = path.read_text(encoding="utf-8")
        if "vc_im.cli" in _imports(path, import_time_only=False) or "import typer" in text:
            offenders.append(name)
    assert offenders == []


def test_private_packages_are_reached_through_their_facade() -> None:
    """Outside a private package (vc_im._x), only its facade is imported, never its modules."""
    private = {name for name, path in MODULES.items()
               if path.name == "__init__.py" and name.rpartition(".")[2].startswith("_")}
    offenders = []
    for name, path in MODULES.items():
        for imported in _imports(path, import_time_only=False):
            for package in private:
                inside = name == package or name.startswith(package + ".")
                if imported.startswith(package + ".") and not inside:
                    offenders.append(f"{name} imports {imported}")
    assert offenders == []


def test_no_module_shadows_the_standard_library() -> None:
    """No module is named after a standard-library module (inspect.py once was)."""
    shadows = [name for name in MODULES
               if name.rpartition(".")[2] in sys.stdlib_module_names]
    assert shadows == []


def test_modules_stay_readable_in_one_sitting() -> None:
    """No module is above 600 lines, except the identifier grammar, which is one piece."""
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
            and name != "vc_im.identifiers"}
    assert long == {}


def test_one_front_door_for_verification() -> None:
    """There is one verify module, not two near-identical names."""
    assert "vc_im.verifier" not in MODULES
    assert "vc_im.verify" in MODULES


def test_library_never_writes_under_home(tmp_path: Path) -> None:
    """Without a store, verifying a presentation refuses (ReplayStoreError) and creates
    nothing under $HOME or XDG_STATE_HOME: only the CLI chooses a default location."""
    code = """
import vc_im
issuer, device = vc_im.generate_key(), vc_im.generate_key()
now = 1_900_000_000
token = vc_im.issue_credential(issuer, issuer="https://im.example.com",
                               subject="im:alice/laptop@example.com", fn="Alice",
                               holder_key=device.public(), now=now)
trust = vc_im.TrustStore.of(vc_im.TrustedIssuer("https://im.example.com", (issuer.public(),),
                                                frozenset({"example.com"})))
vp = vc_im.create_presentation(device, [token], audience="https://v.example", nonce="n" * 22,
                               now=now)
try:
    vc_im.verify_token(vp, trust, now=now, audience="https://v.example", nonce="n" * 22)
except vc_im.ReplayStoreError as exc:
    print("refused:", exc.message)
"""
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_STATE_HOME": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert out.stdout.startswith("refused: accepting a presentation or proof consumes it")
    assert list(home.iterdir()) == []
    assert not (tmp_path / "state").exists()


def test_an_open_store_is_used_as_it_is(tmp_path: Path) -> None:
    """A ReplayStore handed in is used without being closed: one connection for many calls."""
    issuer, device = vc_im.generate_key(), vc_im.generate_key()
    now = 1_900_000_000
    token = vc_im.issue_credential(issuer, issuer="https://im.example.com",
                                   subject="im:alice/laptop@example.com", fn="Alice",
                                   holder_key=device.public(), now=now)
    trust = vc_im.TrustStore.of(vc_im.TrustedIssuer(
        "https://im.example.com", (issuer.public(),), frozenset({"example.com"})))
    with vc_im.ReplayStore.open(tmp_path / "replay.sqlite3") as store:
        codes = []
        for nonce in ("a" * 22, "b" * 22, "a" * 22):
            vp = vc_im.create_presentation(device, [token], audience="https://v.example",
                                           nonce=nonce, now=now)
            report = vc_im.verify_token(vp, trust, now=now, audience="https://v.example",
                                        nonce=nonce, store=store)
            codes.append(report.code)
        assert codes == [None, None, vc_im.Code.REPLAY]
