"""Field drift between a record contract and what a landing file actually carried.

The file loader notes, per file, the field paths its valid records carried
(:class:`FieldsSeen`, stored as ``fields_seen`` in ``raw.<family>_files``). Against the current
contract that gives:

* **unknown** paths: carried, but not in the contract (schema drift, kept by the loader);
* **missing** known paths: in the contract, carried by no record of the file.

A file with both is a *suspected rename* (a vendor renamed ``rating`` to ``score``): the
Dagster check ``landing_field_renames`` warns about it. An unknown field alone is ordinary drift
and a missing field alone is an optional field the vendor left out, so neither warns.

Paths use dots for nesting: ``respondent.phone``, ``messages.body``. Below a known object or
list only one level of members is noted; an unknown field is noted by its own name only.
A known member is reported missing only when its parent was carried and at least one of its
siblings was: a parent that was always ``null`` or an empty list says nothing about members.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from loaders.contracts.spec import VERSION_COLUMN, FieldSpec, Kind, RecordSpec

MAX_UNKNOWN_PATHS = 50
"""Unknown paths kept per file: a vendor that sends data as keys must not bloat the load log."""
_MAX_SHAPES = 1000
"""Distinct key tuples held per path before they are folded into paths (bounds the memory)."""


def contract_paths(spec: RecordSpec) -> set[str]:
    """Every field path the contract knows: the id, the fields and their members."""
    paths = {spec.id_field}

    def add(fields: Iterable[FieldSpec], prefix: str) -> None:
        for field_spec in fields:
            path = f"{prefix}{field_spec.name}"
            paths.add(path)
            if field_spec.children:
                add(field_spec.children, f"{path}.")

    add(spec.fields, "")
    return paths


class FieldsSeen:
    """Collects the field paths of the valid records of one file, cheaply: one key tuple per
    distinct shape (a file's records mostly share a few), expanded to paths at the end."""

    def __init__(self, spec: RecordSpec) -> None:
        self._known = contract_paths(spec)
        self._plan = _member_plan(spec.fields, "")
        self._keysets: dict[str, set[tuple]] = {"": set()}
        for path in _plan_paths(self._plan):
            self._keysets[path] = set()
        self._folded: set[str] = set()

    def observe(self, record: Mapping[str, Any]) -> None:
        top = self._keysets[""]
        top.add(tuple(record))
        self._observe_members(self._plan, record)
        if len(top) > _MAX_SHAPES:
            self._fold()

    def _observe_members(self, plan: list[tuple], container: Mapping[str, Any]) -> None:
        for name, path, is_list, children in plan:
            value = container.get(name)
            if not value:
                continue
            keysets = self._keysets[path]
            if is_list:
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, dict):
                            keysets.add(tuple(item))
                            if len(keysets) > _MAX_SHAPES:
                                self._fold()
                            if children:
                                self._observe_members(children, item)
            elif isinstance(value, dict):
                keysets.add(tuple(value))
                if len(keysets) > _MAX_SHAPES:
                    self._fold()
                if children:
                    self._observe_members(children, value)

    def _fold(self) -> None:
        """Turn the key tuples held into paths, keeping every known and the first unknown ones."""
        found = set(self._folded)
        for parent, keysets in self._keysets.items():
            prefix = f"{parent}." if parent else ""
            for keys in keysets:
                found.update(f"{prefix}{key}" for key in keys if isinstance(key, str))
            keysets.clear()
        found.discard(VERSION_COLUMN)
        unknown = sorted(found - self._known)[:MAX_UNKNOWN_PATHS]
        self._folded = (found & self._known) | set(unknown)

    def paths(self) -> set[str]:
        """Every known path carried, and the first ``MAX_UNKNOWN_PATHS`` unknown ones (sorted)."""
        self._fold()
        return set(self._folded)

    def to_json(self) -> str | None:
        """The load-log value: :meth:`paths` as a sorted JSON list; ``None`` when no valid
        record was seen (nothing to compare)."""
        seen = self.paths()
        return json.dumps(sorted(seen), ensure_ascii=False) if seen else None


def _member_plan(fields: Iterable[FieldSpec], prefix: str) -> list[tuple]:
    """``(name, path, is_list, children plan)`` of every object or list field, recursively."""
    return [
        (f.name, f"{prefix}{f.name}", f.kind is Kind.LIST, _member_plan(f.children, f"{prefix}{f.name}."))
        for f in fields
        if f.kind in (Kind.OBJECT, Kind.LIST)
    ]


def _plan_paths(plan: list[tuple]) -> Iterable[str]:
    for _, path, _, children in plan:
        yield path
        yield from _plan_paths(children)


@dataclass(frozen=True)
class FieldDrift:
    """How the fields one file carried differ from its contract."""

    file: str
    table: str
    missing: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def suspected_rename(self) -> bool:
        return bool(self.missing) and bool(self.unknown)

    def describe(self) -> str:
        return (
            f"{self.file} ({self.table}): known field(s) {', '.join(self.missing)} missing while "
            f"unknown field(s) {', '.join(self.unknown)} appeared"
        )


def spec_for_fields(specs: Iterable[RecordSpec], seen: set[str]) -> RecordSpec | None:
    """The spec of a family whose records carried ``seen`` (families with two tables share one
    load log; a valid record always carries its table's id field)."""
    specs = list(specs)
    if len(specs) == 1:
        return specs[0]
    matching = [spec for spec in specs if spec.id_field in seen]
    return matching[0] if len(matching) == 1 else None


def field_drift(file: str, specs: Iterable[RecordSpec], fields_seen_json: str | None) -> FieldDrift | None:
    """Missing known and unknown paths of one load-log row; ``None`` when it holds no evidence."""
    if not fields_seen_json:
        return None
    seen = set(json.loads(fields_seen_json))
    spec = spec_for_fields(specs, seen)
    if spec is None or not seen:
        return None
    known = contract_paths(spec)
    missing = []
    for path in sorted(known - seen):
        parent, _, _ = path.rpartition(".")
        if not parent:
            missing.append(path)
            continue
        siblings = {p for p in known if p.rpartition(".")[0] == parent}
        if parent in seen and siblings & seen:
            missing.append(path)
    unknown = sorted(seen - known)
    return FieldDrift(file, spec.table, tuple(missing), tuple(unknown))
