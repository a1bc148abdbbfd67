"""Writing output files without losing data: keys, certificates, tokens, the demo's files.

A command's output never silently replaces what is already there: an existing file (or
symlink, even a dangling one) is refused unless the caller says ``force``. A symlink at the
output path is never followed, not even with ``force``: the link itself is replaced, its
target is left alone. Two outputs of one command may not name the same file.

Each file is written whole to a new temporary name in the same directory, created with
``O_CREAT | O_EXCL`` and its final mode (0600 for private keys) by :func:`os.open` itself,
so it is never readable by others, not even for an instant, and no ``fchmod`` is needed
(Windows Python lacks it before 3.13). It then takes its name in one step: a hard link,
which fails if the name appeared meanwhile, or, with ``force``, a rename over the old
entry. On a file system without hard links the existence check and the rename are two
steps.

Errors (all :class:`~vc_im.errors.InputError`, exit 2)::

    OutputFileError          the file cannot be written (no directory, no permission, ...)
     ├── OutputExistsError   something is already there, and force was not given
     └── SameOutputError     two outputs of one command name the same file
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from vc_im.errors import InputError

__all__ = ["PRIVATE_MODE", "PUBLIC_MODE", "OutputExistsError", "OutputFileError",
           "SameOutputError", "check_distinct_outputs", "check_new_file", "write_new_file"]

#: Mode of a file anyone may read (certificates, public keys, tokens).
PUBLIC_MODE: Final = 0o644
#: Mode of a private key file: its owner alone reads it.
PRIVATE_MODE: Final = 0o600
_TEMPORARY_ATTEMPTS: Final = 16
#: errno values that mean "this file system cannot make hard links".
_NO_HARD_LINKS: Final = frozenset({errno.EPERM, errno.EXDEV, errno.EMLINK,
                                   getattr(errno, "ENOTSUP", errno.EPERM),
                                   getattr(errno, "EOPNOTSUPP", errno.EPERM),
                                   errno.ENOSYS})


class OutputFileError(InputError):
    """An output file cannot be written."""

    code = "bad_output"


class OutputExistsError(OutputFileError):
    """Something already exists at the output path, and replacing it was not asked for."""

    code = "output_exists"


class SameOutputError(OutputFileError):
    """Two outputs of one command name the same file: one would destroy the other."""

    code = "same_output"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_new_file(path: Path, *, force: bool = False) -> None:
    """Raise unless ``path`` may be written: nothing there, or (with ``force``) a file or
    a symlink to replace; a directory is never replaced.

    Commands call it for every output before writing any, so that a refusal leaves no
    output half-made. :func:`write_new_file` checks again, atomically.
    """
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputFileError(f"the file {path} cannot be written: {_reason(exc)}.") from exc
    if stat.S_ISDIR(found.st_mode):
        raise OutputFileError(f"{path} is a directory, so no file can be written there.")
    if not force:
        what = "a symlink" if stat.S_ISLNK(found.st_mode) else "a file"
        raise OutputExistsError(f"{path} already exists ({what}), and vc-im overwrites "
                                "nothing unless told --force.")


def check_distinct_outputs(outputs: Mapping[str, Path | None]) -> None:
    """Raise :class:`SameOutputError` when two outputs (option name -> path) are one file.

    Paths are compared resolved (symlinks followed, ``..`` and case as the platform
    folds them), so ``x.jwk``, ``./x.jwk`` and a link to it are all the same file.
    """
    seen: dict[str, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        key = os.path.normcase(str(Path(path).resolve()))
        if key in seen:
            raise SameOutputError(f"{seen[key]} and {option} both name {path}; each output "
                                  "needs its own file.")
        seen[key] = option


def write_new_file(path: Path, data: bytes, *, mode: int = PUBLIC_MODE,
                   force: bool = False) -> None:
    """Write ``data`` to ``path``, created with ``mode``, atomically and without following
    a symlink there.

    Without ``force`` an existing entry at ``path`` (a file, a symlink, anything) is left
    untouched and :class:`OutputExistsError` raised; with ``force`` a file or symlink is
    replaced (the link itself, never its target). A directory is never replaced.
    """
    path = Path(path)
    check_new_file(path, force=force)
    directory = path.parent
    temporary, descriptor = _create_temporary(directory, path, mode)
    try:
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if force:
                os.replace(temporary, path)  # replaces a symlink itself, never its target
            else:
                _link_new(temporary, path)
        except FileExistsError as exc:
            raise OutputExistsError(f"{path} already exists, and vc-im overwrites nothing "
                                    "unless told --force.") from exc
        except IsADirectoryError as exc:
            raise OutputFileError(f"{path} is a directory, so no file can be written "
                                  "there.") from exc
        except OSError as exc:
            raise OutputFileError(f"the file {path} cannot be written: {_reason(exc)}.") \
                from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _create_temporary(directory: Path, path: Path, mode: int) -> tuple[Path, int]:
    """A new, empty file beside ``path`` with ``mode`` from its creation; never an existing
    name, never through a symlink."""
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
    for _ in range(_TEMPORARY_ATTEMPTS):
        temporary = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
        try:
            return temporary, os.open(temporary, flags, mode)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputFileError(f"the file {path} cannot be written: {_reason(exc)}.") \
                from exc
    raise OutputFileError(f"the file {path} cannot be written: no free temporary name in "
                          f"{directory}.")


def _link_new(temporary: Path, path: Path) -> None:
    """Give the finished file its name only if the name is free (FileExistsError if not)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # No hard links here: check, then rename (Windows' rename never replaces a file).
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from exc
        os.rename(temporary, path)
