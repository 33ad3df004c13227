"""Google's published contract: the discovery documents bundled in googleapiclient.

Routes a request to a discovery method, checks its query parameters and
request body, and checks response bodies against the declared schemas.
Every check returns a list of human-readable problems (empty when fine).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APIS: dict[str, str] = {"gmail": "gmail.v1", "calendar": "calendar.v3"}

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class MethodSpec:
    """One discovery method, ready for routing and validation."""

    api: str
    doc: Discovery
    id: str
    http_method: str
    path: str
    regex: re.Pattern[str]
    literal_weight: int
    parameters: dict[str, dict[str, Any]]
    request_ref: str | None
    response_ref: str | None
    scopes: tuple[str, ...]
    upload_paths: tuple[re.Pattern[str], ...] = field(default=())


def _compile(template: str) -> tuple[re.Pattern[str], int]:
    """`gmail/v1/users/{userId}/messages/{id}` -> regex, number of literal characters."""
    out, literal, pos = [], 0, 0
    for m in re.finditer(r"\{\+?([^}]+)\}", template):
        chunk = template[pos : m.start()]
        out.append(re.escape(chunk))
        literal += len(chunk)
        name = re.sub(r"\W", "_", m.group(1))
        out.append(f"(?P<{name}>[^/]+)" if "+" not in m.group(0) else f"(?P<{name}>.+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    literal += len(template) - pos
    return re.compile("^" + "".join(out) + "$"), literal


class Discovery:
    """One loaded discovery document and its methods."""

    def __init__(self, api: str, document: dict[str, Any]) -> None:
        self.api = api
        self.document = document
        self.schemas: dict[str, Any] = document.get("schemas", {})
        self.standard_parameters: dict[str, Any] = document.get("parameters", {})
        self.methods: list[MethodSpec] = []
        self._walk(document)
        self.methods.sort(key=lambda m: -m.literal_weight)
        self.by_id = {m.id: m for m in self.methods}

    def _walk(self, resource: dict[str, Any]) -> None:
        for method in resource.get("methods", {}).values():
            path = method.get("flatPath") or method["path"]
            regex, weight = _compile(path)
            uploads = tuple(
                _compile(p["path"].lstrip("/"))[0]
                for p in method.get("mediaUpload", {}).get("protocols", {}).values()
            )
            self.methods.append(
                MethodSpec(
                    api=self.api,
                    doc=self,
                    id=method["id"],
                    http_method=method["httpMethod"],
                    path=path,
                    regex=regex,
                    literal_weight=weight,
                    parameters=method.get("parameters", {}),
                    request_ref=method.get("request", {}).get("$ref"),
                    response_ref=method.get("response", {}).get("$ref"),
                    scopes=tuple(method.get("scopes", ())),
                    upload_paths=uploads,
                )
            )
        for sub in resource.get("resources", {}).values():
            self._walk(sub)

    def match(self, http_method: str, path: str) -> tuple[MethodSpec, dict[str, str], bool] | None:
        """Find the method for `path` (no leading slash): (spec, path params, is_upload)."""
        for spec in self.methods:
            if spec.http_method != http_method:
                continue
            m = spec.regex.match(path)
            upload = False
            for pattern in spec.upload_paths if m is None else ():
                m = pattern.match(path)
                if m is not None:
                    upload = True
                    break
            if m is not None:
                names = _path_names(spec.path)
                values = {names[k]: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
                return spec, values, upload
        return None

    def path_exists(self, path: str) -> bool:
        """Whether any method (of any HTTP verb) serves `path`."""
        return any(spec.regex.match(path) for spec in self.methods)


def _path_names(template: str) -> dict[str, str]:
    return {re.sub(r"\W", "_", n): n for n in re.findall(r"\{\+?([^}]+)\}", template)}


@functools.cache
def discovery(api: str) -> Discovery:
    """Load the discovery document for "gmail" or "calendar" bundled with googleapiclient."""
    import googleapiclient

    base = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
    with open(base / f"{APIS[api]}.json", encoding="utf-8") as fh:
        return Discovery(api, json.load(fh))


# ---------------------------------------------------------------- parameters


def check_query(spec: MethodSpec, query: dict[str, list[str]]) -> list[str]:
    """Problems with the query string of a call to `spec`."""
    problems: list[str] = []
    where = spec.id
    for name, values in query.items():
        decl = spec.parameters.get(name)
        if decl is None:
            decl = spec.doc.standard_parameters.get(name)
        if decl is None:
            problems.append(f"{where}: undeclared query parameter {name!r}")
            continue
        if decl.get("location") == "path":
            problems.append(f"{where}: path parameter {name!r} sent in the query string")
            continue
        if len(values) > 1 and not decl.get("repeated"):
            problems.append(f"{where}: parameter {name!r} is not repeated but was sent {len(values)} times")
        for value in values:
            problems.extend(_check_scalar(f"{where}: parameter {name!r}", value, decl))
    for name, decl in spec.parameters.items():
        if decl.get("required") and decl.get("location") == "query" and name not in query:
            problems.append(f"{where}: required parameter {name!r} missing")
    return problems


def _check_scalar(where: str, value: str, decl: dict[str, Any]) -> list[str]:
    kind, fmt = decl.get("type"), decl.get("format")
    if "enum" in decl and value not in decl["enum"]:
        return [f"{where}: {value!r} is not one of {decl['enum']}"]
    if kind == "boolean" and value not in ("true", "false"):
        return [f"{where}: {value!r} is not a boolean"]
    if kind == "integer":
        if not _INT.match(value):
            return [f"{where}: {value!r} is not an integer"]
        if "minimum" in decl and int(value) < int(decl["minimum"]):
            return [f"{where}: {value} is below the minimum {decl['minimum']}"]
        if "maximum" in decl and int(value) > int(decl["maximum"]):
            return [f"{where}: {value} is above the maximum {decl['maximum']}"]
    if kind == "string" and fmt == "date-time" and not _RFC3339.match(value):
        return [f"{where}: {value!r} is not an RFC 3339 timestamp with a time zone offset"]
    if kind == "string" and fmt in ("int64", "uint64") and not _INT.match(value):
        return [f"{where}: {value!r} is not an {fmt}"]
    return []


def coerce_params(spec: MethodSpec, query: dict[str, list[str]], path: dict[str, str]) -> dict[str, Any]:
    """Typed parameter values (declared defaults are NOT applied: absent means absent)."""
    out: dict[str, Any] = dict(path)
    for name, values in query.items():
        decl = spec.parameters.get(name) or spec.doc.standard_parameters.get(name) or {}
        typed = [_coerce(v, decl.get("type")) for v in values]
        out[name] = typed if decl.get("repeated") else typed[-1]
    return out


def _coerce(value: str, kind: str | None) -> Any:
    if kind == "boolean":
        return value == "true"
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    return value


# ------------------------------------------------------------------- schemas


def check_schema(doc: Discovery, value: Any, ref: str, where: str) -> list[str]:
    """Problems with `value` as an instance of the schema named `ref`."""
    problems: list[str] = []
    _check(doc, value, {"$ref": ref}, where, problems)
    return problems


def _check(doc: Discovery, value: Any, schema: dict[str, Any], where: str, out: list[str]) -> None:
    if "$ref" in schema:
        schema = doc.schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "any":
        return
    if kind == "object" or (kind is None and "properties" in schema):
        if not isinstance(value, dict):
            out.append(f"{where}: expected an object, got {type(value).__name__}")
            return
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                _check(doc, item, props[key], f"{where}.{key}", out)
            elif isinstance(extra, dict):
                _check(doc, item, extra, f"{where}[{key!r}]", out)
            else:
                out.append(f"{where}: property {key!r} is not in the schema")
        return
    if kind == "array":
        if not isinstance(value, list):
            out.append(f"{where}: expected an array, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check(doc, item, schema.get("items", {}), f"{where}[{i}]", out)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{where}: expected a boolean, got {value!r}")
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(f"{where}: expected a JSON integer ({schema.get('format')}), got {value!r}")
        return
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append(f"{where}: expected a number, got {value!r}")
        return
    if kind == "string":
        if not isinstance(value, str):
            out.append(f"{where}: expected a string ({schema.get('format') or 'string'}), got {value!r}")
            return
        problem = _string_format(value, schema)
        if problem:
            out.append(f"{where}: {problem}")


def _string_format(value: str, schema: dict[str, Any]) -> str | None:
    fmt = schema.get("format")
    if "enum" in schema and value not in schema["enum"]:
        return f"{value!r} is not one of {schema['enum']}"
    if fmt in ("int64", "uint64") and not _INT.match(value):
        return f"{value!r} is not an {fmt} string"
    if fmt == "date-time" and not _RFC3339.match(value):
        return f"{value!r} is not an RFC 3339 timestamp"
    if fmt == "date" and not _DATE.match(value):
        return f"{value!r} is not a yyyy-mm-dd date"
    if fmt == "byte" and decode_bytes(value) is None:
        return "not valid base64/base64url"
    return None


def decode_bytes(value: str) -> bytes | None:
    """Decode a `format: byte` string the way Google does (base64url or base64)."""
    text = value.strip().replace("\n", "").replace("\r", "")
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded.encode("ascii"))
        return base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def schema_property(doc: Discovery, schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The schema of property `name` of an object schema (None when undeclared)."""
    if "$ref" in schema:
        schema = doc.schemas[schema["$ref"]]
    if schema.get("type") == "array":
        return schema_property(doc, schema.get("items", {}), name)
    props = schema.get("properties", {})
    if name in props:
        return props[name]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None
