"""The verifier service's configuration: one TOML file and/or ``VC_IM_*`` environment
variables; command-line options win over the environment, which wins over the file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from vc_im.errors import InputError

#: Bytes a request body may hold (tokens are bounded the same way).
MAX_BODY_BYTES = 65_536


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Everything ``vc-im serve`` needs; the file's keys and ``VC_IM_<KEY>`` are these names."""

    trust: Path
    store: str = ""  # empty: the CLI's default SQLite file
    audience: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    max_body: int = MAX_BODY_BYTES
    request_timeout: float = 10.0
    leeway: int = 60
    nonce_ttl: int = 300


_INTS = {"port": (1, 65535), "max_body": (1, MAX_BODY_BYTES), "leeway": (0, 86_400),
         "nonce_ttl": (1, 86_400)}
_NAMES = tuple(item.name for item in fields(ServiceConfig))


def _coerce(name: str, value: Any) -> Any:
    if name == "trust":
        if not isinstance(value, (str, Path)) or not str(value):
            raise InputError("the service configuration's trust must be a file path.")
        return Path(value)
    if name in _INTS:
        low, high = _INTS[name]
        try:
            number = int(value) if not isinstance(value, bool) else None
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise InputError(f"the service configuration's {name} must be an integer from "
                             f"{low} to {high}.")
        return number
    if name == "request_timeout":
        try:
            seconds = float(value) if not isinstance(value, bool) else -1.0
        except ValueError:
            seconds = -1.0
        if not 0.1 <= seconds <= 300:
            raise InputError("the service configuration's request_timeout must be 0.1 to 300 "
                             "seconds.")
        return seconds
    if not isinstance(value, str):
        raise InputError(f"the service configuration's {name} must be a string.")
    return value


def load_config(file: Path | None, environ: Mapping[str, str] | None = None,
                **options: Any) -> ServiceConfig:
    """The configuration from ``file`` (TOML), then ``environ``, then ``options`` (not None)."""
    values: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read the service configuration {file}: "
                             f"{exc.strerror or exc}.") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"the service configuration {file} is not valid TOML.") from exc
        unknown = sorted(set(data) - set(_NAMES))
        if unknown:
            raise InputError(f"the service configuration {file} has unknown keys: "
                             f"{', '.join(unknown)}.")
        values.update(data)
    env = os.environ if environ is None else environ
    for name in _NAMES:
        if f"VC_IM_{name.upper()}" in env:
            values[name] = env[f"VC_IM_{name.upper()}"]
    values.update({name: value for name, value in options.items() if value is not None})
    if "trust" not in values:
        raise InputError("the service needs a trust file: --trust, VC_IM_TRUST or trust = "
                         "in the configuration file.")
    coerced = {name: _coerce(name, value) for name, value in values.items()}
    return replace(ServiceConfig(trust=coerced.pop("trust")), **coerced)
