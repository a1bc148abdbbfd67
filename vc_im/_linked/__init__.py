"""Linked data: the offline JSON-LD loader and expansion, the JSON Schemas, and the packaged
contexts and schemas they read.

Private: reached only through this facade. pyld and jsonschema are imported here, inside
the functions that need them, so importing this package loads neither.
"""

from __future__ import annotations

from vc_im._linked.jsonld import (
    ContextLoader,
    JsonLdRejected,
    check_context,
    check_expansion,
    document_loader,
    expand_checked,
)
from vc_im._linked.pinned import (
    CREDENTIAL_TYPES,
    PINNED_CONTEXTS,
    PRESENTATION_TYPES,
    STATUS_LIST_2021_CONTEXT,
    V1_CONTEXT,
    V2_CONTEXT,
    VCARD_NAMESPACE,
    VCIM_CONTEXT,
    PinnedContext,
)
from vc_im._linked.resources import contexts_dir, schemas_dir
from vc_im._linked.schema import (
    SCHEMA_BASE,
    SchemaName,
    SchemaProblem,
    check_schema,
    validate,
    validate_with,
)

__all__ = [
    "CREDENTIAL_TYPES",
    "PINNED_CONTEXTS",
    "PRESENTATION_TYPES",
    "SCHEMA_BASE",
    "STATUS_LIST_2021_CONTEXT",
    "V1_CONTEXT",
    "V2_CONTEXT",
    "VCARD_NAMESPACE",
    "VCIM_CONTEXT",
    "ContextLoader",
    "JsonLdRejected",
    "PinnedContext",
    "SchemaName",
    "SchemaProblem",
    "check_context",
    "check_expansion",
    "check_schema",
    "contexts_dir",
    "document_loader",
    "expand_checked",
    "schemas_dir",
    "validate",
    "validate_with",
]
