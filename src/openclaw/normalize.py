"""Bring a schema-valid document to one shape: the report's lists of one-key mappings become
mappings, descriptive choice lists become their first name, and every default from the schema
is filled in. Each normalized path remembers the raw path it came from, for locating findings.
"""

from __future__ import annotations

from typing import Any

from openclaw.load import PathT

_MISSING = object()


class Normalizer:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self.origins: dict[PathT, PathT] = {}

    def resolve(self, schema: Any) -> dict[str, Any]:
        while isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.root["$defs"][name]
        return schema if isinstance(schema, dict) else {}

    def _object_branch(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        for branch in schema.get("anyOf", []):
            b = self.resolve(branch)
            if b.get("type") == "object" and "properties" in b:
                return b
        return None

    def _default(self, schema: Any) -> Any:
        if isinstance(schema, dict) and "default" in schema:
            return schema["default"]
        resolved = self.resolve(schema)
        return resolved.get("default", _MISSING)

    def _is_object(self, schema: Any) -> bool:
        """Objects, and the report's settings lists, are created when absent so that their
        defaults apply; optional alternatives (a channel that is text or a mapping) are not."""
        s = self.resolve(schema)
        if s.get("type") == "object" and "properties" in s:
            return True
        first = self.resolve(s["anyOf"][0]) if s.get("anyOf") else {}
        return first.get("type") == "object" and "properties" in first

    def run(self, data: Any, schema: Any, npath: PathT = (), rpath: PathT = ()) -> Any:
        self.origins[npath] = rpath
        s = self.resolve(schema)
        if "anyOf" in s:
            obj = self._object_branch(s)
            if isinstance(data, list):
                items = next((self.resolve(b).get("items") for b in s["anyOf"]
                              if self.resolve(b).get("type") == "array"), None) or {}
                if "allOf" in items and obj is not None:  # list of one-key settings
                    merged: dict[str, Any] = {}
                    for i, item in enumerate(data):
                        for key, value in item.items():
                            merged[key] = value
                            self.origins[(*npath, key)] = (*rpath, i, key)
                    return self._object(merged, obj, npath, rpath, from_list=True)
                if data:  # descriptive choice list: the first entry is in force
                    return next(iter(data[0]))
                return s.get("default")
            if isinstance(data, dict) and obj is not None:
                return self._object(data, obj, npath, rpath)
            return data
        if s.get("type") == "object" and "properties" in s and isinstance(data, dict):
            return self._object(data, s, npath, rpath)
        if isinstance(data, dict):  # a free-form mapping (secrets.env): keys keep their place
            for key in data:
                self.origins[(*npath, key)] = (*rpath, key)
        if s.get("type") == "array" and isinstance(data, list) and "items" in s:
            return [self.run(x, s["items"], (*npath, i), (*rpath, i))
                    for i, x in enumerate(data)]
        return data

    def _object(self, data: dict[str, Any], schema: dict[str, Any], npath: PathT,
                rpath: PathT, from_list: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, sub in schema["properties"].items():
            if key in data:
                origin = self.origins.get((*npath, key), (*rpath, key)) if from_list \
                    else (*rpath, key)
                out[key] = self.run(data[key], sub, (*npath, key), origin)
                continue
            default = self._default(sub)
            if default is not _MISSING:
                out[key] = self.run(default, sub, (*npath, key), rpath)
            elif self._is_object(sub):
                out[key] = self.run({}, sub, (*npath, key), rpath)
        for key, value in data.items():  # additionalProperties mappings (secrets.env)
            if key not in out:
                self.origins[(*npath, key)] = (*rpath, key)
                out[key] = value
        return out


def normalize(data: Any, schema: dict[str, Any]) -> tuple[Any, dict[PathT, PathT]]:
    n = Normalizer(schema)
    return n.run(data, schema), n.origins
