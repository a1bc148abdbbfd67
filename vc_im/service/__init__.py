"""The HTTP verifier service behind ``vc-im serve``: configuration, the ASGI app, OpenAPI.

Importing this package loads no web stack; :func:`create_app` and :func:`serve` do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vc_im.service.config import MAX_BODY_BYTES, ServiceConfig, load_config
from vc_im.service.openapi import openapi_document

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["MAX_BODY_BYTES", "ServiceConfig", "create_app", "load_config", "openapi_document",
           "serve"]


def create_app(config: ServiceConfig) -> Starlette:
    """The ASGI application (Starlette) for ``config``."""
    from vc_im.service.app import create_app as build

    return build(config)


def serve(config: ServiceConfig) -> None:
    """Run the service on uvicorn until SIGINT or SIGTERM."""
    from vc_im.service.app import serve as run

    run(config)

