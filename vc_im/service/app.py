"""The HTTP verifier service (Starlette on uvicorn), following the W3C VC API where it speaks.

Verification is CPU-bound and synchronous: each request runs it in a worker thread, bounded
by ``request_timeout``, with that thread's own handle on the shared replay store. A verdict
is HTTP 200 either way; 4xx is only for a request that cannot be read. The trust file is
held by reference and swapped whole on SIGHUP, so a reload never drops a request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vc_im import _jose as jose
from vc_im.errors import InputError, VcImError
from vc_im.replay import ReplayBackend, ReplayStoreError, default_store_path, open_store
from vc_im.report import Report
from vc_im.service.config import ServiceConfig
from vc_im.service.openapi import openapi_document
from vc_im.times import now_seconds
from vc_im.trust import TrustStore, read_trust_file

ACCESS_LOG = logging.getLogger("vc_im.service.access")
#: The member of a verification result that holds vc-im's full report.
REPORT_MEMBER = "vcImReport"


class BadRequest(Exception):
    """A request that cannot be read: HTTP 4xx with one sentence."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Verifier:
    """The service's state: its configuration, the current trust file, per-thread stores."""

    def __init__(self, config: ServiceConfig) -> None:
        """Load the trust file now: a service without one does not start."""
        self.config = config
        self.store_location = config.store or str(default_store_path())
        self.trust: TrustStore = read_trust_file(config.trust)
        self._local = threading.local()
        self._lock = threading.Lock()
        # Opened once before serving and kept open: a SQLite file is created and put in WAL
        # mode here, not by many worker threads at once (a race SQLite reports as an I/O
        # error); a network store only parses its URL (it connects on first use).
        self._stores: list[ReplayBackend] = [open_store(self.store_location)]

    def reload_trust(self) -> bool:
        """Read the trust file again; keep the old one if the new one is unusable."""
        try:
            trust = read_trust_file(self.config.trust)
        except VcImError as exc:
            _log({"event": "trust_reload", "ok": False, "reason": exc.message})
            return False
        self.trust = trust  # one reference swap: requests in flight keep theirs
        _log({"event": "trust_reload", "ok": True})
        return True

    def store(self) -> ReplayBackend:
        """This worker thread's handle on the shared store (SQLite handles are per thread)."""
        handle: ReplayBackend | None = getattr(self._local, "store", None)
        if handle is None:
            handle = open_store(self.store_location)
            self._local.store = handle
            with self._lock:
                self._stores.append(handle)
        return handle

    def close(self) -> None:
        """Close every handle (at shutdown)."""
        with self._lock:
            for handle in self._stores:
                # A SQLite handle belongs to its worker thread; the process is ending anyway.
                with contextlib.suppress(Exception):
                    handle.close()
            self._stores.clear()


def _log(record: dict[str, Any]) -> None:
    ACCESS_LOG.info(json.dumps(record, sort_keys=True, separators=(",", ":")))


def vc_api_result(report: Report) -> dict[str, Any]:
    """The VC API's verification result, with vc-im's report under :data:`REPORT_MEMBER`."""
    checks = [check.name for check in report.checks if check.status.value == "passed"]
    errors: list[dict[str, Any]] = []
    if not report.ok:
        failure = report.failure
        errors.append({"code": str(report.code), "check": failure.name if failure else
                       "credentials", "reason": failure.reason if failure else
                       "an embedded credential is invalid."})
    return {"verified": report.ok, "checks": checks, "warnings": [], "errors": errors,
            REPORT_MEMBER: report.to_json()}


def _unavailable_result(exc: VcImError) -> dict[str, Any]:
    return {"verified": False, "checks": [], "warnings": [],
            "errors": [{"code": "store_unavailable", "check": "replay", "reason": exc.message}]}


async def _read_json(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BadRequest(f"the request body is larger than {limit} bytes.", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(f"the request body is larger than {limit} bytes.", 413)
    try:
        data = jose.loads(bytes(body), what="request body", max_bytes=limit)
    except (jose.StrictJSONError, VcImError, ValueError) as exc:
        raise BadRequest(f"the request body is not a JSON object: {exc}".rstrip(".") + ".") \
            from exc
    if not isinstance(data, dict):
        raise BadRequest("the request body is not a JSON object.")
    return data


def _string(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be a non-empty string (a compact JWS).")
    return value


def _options(data: dict[str, Any]) -> dict[str, Any]:
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise BadRequest("options must be a JSON object.")
    for name in ("challenge", "domain"):
        if name in options and not isinstance(options[name], str):
            raise BadRequest(f"options.{name} must be a string.")
    return options


Handler = Callable[[Verifier, dict[str, Any]], Any]


def create_app(config: ServiceConfig) -> Starlette:
    """The ASGI application for ``config`` (loads the trust file now)."""
    verifier = Verifier(config)

    async def run_bounded(function: Callable[[], Any]) -> Any:
        with anyio.fail_after(config.request_timeout):
            return await anyio.to_thread.run_sync(function, abandon_on_cancel=True)

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            started = time.perf_counter()
            record: dict[str, Any] = {"method": request.method, "path": request.url.path}
            try:
                data = await _read_json(request, config.max_body)
                status, body = 200, await run_bounded(partial(handler, verifier, data))
                if "verified" in body:
                    record["verified"] = body["verified"]
                    if body["errors"]:
                        record["code"] = body["errors"][0]["code"]
            except BadRequest as exc:
                status, body = exc.status, {"error": exc.message}
            except TimeoutError:
                status, body = 503, {"error": "the verification took longer than "
                                              f"{config.request_timeout:g} s."}
            except InputError as exc:
                status, body = 400, {"error": exc.message}
            record.update(status=status, ms=round((time.perf_counter() - started) * 1000, 2))
            _log(record)
            return JSONResponse(body, status_code=status)

        return serve

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        import asyncio

        from vc_im._linked import document_loader

        # The contexts and pyld load once, before the first request, not racing in its threads.
        await anyio.to_thread.run_sync(document_loader)
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            loop.add_signal_handler(signal.SIGHUP, verifier.reload_trust)
        _log({"event": "start", "store": _safe_location(verifier.store_location),
              "trust": str(config.trust)})
        try:
            yield
        finally:
            if threading.current_thread() is threading.main_thread():
                loop.remove_signal_handler(signal.SIGHUP)
            verifier.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        def probe() -> str | None:
            try:
                verifier.store().ping()
            except ReplayStoreError as exc:
                return exc.message
            return None

        problem = await run_bounded(probe)
        if problem is not None:
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
        return JSONResponse({"status": "ready", "trust": str(config.trust)})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    routes = [
        Route("/credentials/verify", endpoint(_verify_credential), methods=["POST"]),
        Route("/presentations/verify", endpoint(_verify_presentation), methods=["POST"]),
        Route("/challenges", endpoint(_challenge), methods=["POST"]),
        Route("/dpop/verify", endpoint(_verify_dpop), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.verifier = verifier
    return app


def _safe_location(location: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    if "://" not in location:
        return location
    parts = urlsplit(location)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _verify_credential(verifier: Verifier, data: dict[str, Any]) -> dict[str, Any]:
    from vc_im.credentials import verify_credential

    token = _string(data, "verifiableCredential")
    _options(data)
    report = verify_credential(str(token), verifier.trust, now=now_seconds(),
                               leeway=verifier.config.leeway)
    return vc_api_result(report)


def _verify_presentation(verifier: Verifier, data: dict[str, Any]) -> dict[str, Any]:
    from vc_im.presentations import verify_presentation

    token = _string(data, "verifiablePresentation")
    options = _options(data)
    audience = options.get("domain", verifier.config.audience)
    if verifier.config.audience is not None and audience != verifier.config.audience:
        raise BadRequest("options.domain is not this verifier's audience.")
    try:
        report = verify_presentation(str(token), verifier.trust, now=now_seconds(),
                                     audience=audience, nonce=options.get("challenge"),
                                     leeway=verifier.config.leeway, store=verifier.store())
    except ReplayStoreError as exc:  # fail closed, whatever the backend
        return _unavailable_result(exc)
    return vc_api_result(report)


def _challenge(verifier: Verifier, data: dict[str, Any]) -> dict[str, Any]:
    try:
        nonce = verifier.store().issue_nonce(now=now_seconds(), ttl=verifier.config.nonce_ttl)
    except ReplayStoreError as exc:
        raise BadRequest(exc.message, 503) from exc
    return {"challenge": nonce}


def _verify_dpop(verifier: Verifier, data: dict[str, Any]) -> dict[str, Any]:
    from vc_im.dpop import verify_proof

    proof = _string(data, "proof")
    method = _string(data, "method")
    url = _string(data, "url")
    access_token = _string(data, "accessToken", required=False)
    credential = _string(data, "verifiableCredential", required=False)
    nonce = _string(data, "nonce", required=False)
    try:
        report = verify_proof(str(proof), htm=str(method), htu=str(url), now=now_seconds(),
                              leeway=verifier.config.leeway, nonce=nonce,
                              access_token=access_token, credential=credential,
                              trust=verifier.trust if credential is not None else None,
                              store=verifier.store())
    except ReplayStoreError as exc:
        return _unavailable_result(exc)
    return vc_api_result(report)


def configure_logging() -> None:
    """Access logs as JSON lines on stderr, nothing else from this logger."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS_LOG.handlers[:] = [handler]
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.propagate = False


def serve(config: ServiceConfig) -> None:
    """Run the service until SIGINT or SIGTERM (the CLI's ``vc-im serve``)."""
    import uvicorn

    configure_logging()
    app = create_app(config)
    uvicorn.run(app, host=config.host, port=config.port, access_log=False, log_level="warning",
                lifespan="on")
