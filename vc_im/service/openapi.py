"""The service's OpenAPI 3.1 document, served at ``/openapi.json`` and committed as
``docs/openapi.json`` (a test keeps the two equal)."""

from __future__ import annotations

from typing import Any

_JWS = {"type": "string", "description": "A compact JWS.", "maxLength": 65536}
_RESULT = {
    "type": "object",
    "required": ["verified", "checks", "warnings", "errors"],
    "properties": {
        "verified": {"type": "boolean"},
        "checks": {"type": "array", "items": {"type": "string"},
                   "description": "The checks that passed."},
        "warnings": {"type": "array", "items": {"type": "object"}},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["code", "check", "reason"],
            "properties": {"code": {"type": "string", "description": "A stable failure code "
                                    "(CONTRACT.md), or store_unavailable."},
                           "check": {"type": "string"}, "reason": {"type": "string"}}}},
        "vcImReport": {"type": "object", "description": "vc-im's full report, as "
                       "`vc-im verify --json` prints it."},
    },
}
_ERROR = {"type": "object", "required": ["error"],
          "properties": {"error": {"type": "string", "description": "One sentence."}}}


def _post(summary: str, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return {"post": {
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
        "responses": {
            "200": {"description": "The verdict, either way.",
                    "content": {"application/json": {"schema": answer}}},
            "400": {"description": "The request cannot be read.",
                    "content": {"application/json": {"schema": _ERROR}}},
            "413": {"description": "The body is larger than the limit (64 KiB).",
                    "content": {"application/json": {"schema": _ERROR}}},
            "503": {"description": "The verification took too long, or no challenge could be "
                    "stored.", "content": {"application/json": {"schema": _ERROR}}},
        },
    }}


def _options() -> dict[str, Any]:
    return {"type": "object", "properties": {
        "challenge": {"type": "string", "description": "The nonce the presentation answers."},
        "domain": {"type": "string", "description": "The verifier's audience."}}}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the verifier service."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "vc-im verifier service", "version": "1",
                 "description": "Verifies IM credentials, presentations and DPoP proofs "
                 "(W3C VC API request and result shapes), with a replay store shared by "
                 "every instance."},
        "paths": {
            "/credentials/verify": _post(
                "Verify an ImDeviceCredential or ImUserCredential (JWT).",
                {"type": "object", "required": ["verifiableCredential"],
                 "properties": {"verifiableCredential": _JWS, "options": _options()}},
                _RESULT),
            "/presentations/verify": _post(
                "Verify a presentation and consume its challenge and (iss, jti) at most once.",
                {"type": "object", "required": ["verifiablePresentation"],
                 "properties": {"verifiablePresentation": _JWS, "options": _options()}},
                _RESULT),
            "/challenges": _post(
                "Issue a challenge (nonce) recorded in the shared replay store.",
                {"type": "object"},
                {"type": "object", "required": ["challenge"],
                 "properties": {"challenge": {"type": "string"}}}),
            "/dpop/verify": _post(
                "Verify an RFC 9449 DPoP proof for one request.",
                {"type": "object", "required": ["proof", "method", "url"],
                 "properties": {"proof": _JWS, "method": {"type": "string"},
                                "url": {"type": "string"}, "nonce": {"type": "string"},
                                "accessToken": {"type": "string"},
                                "verifiableCredential": _JWS}},
                _RESULT),
            "/healthz": {"get": {"summary": "The process is up.",
                                 "responses": {"200": {"description": "Up."}}}},
            "/readyz": {"get": {"summary": "The trust file is loaded and the store answers.",
                                "responses": {"200": {"description": "Ready."},
                                              "503": {"description": "The store is "
                                                      "unavailable."}}}},
        },
    }
