"""Field drift between a record contract and what a landing file actually carried.

The file loader counts, per file, how many valid records carried each field path
(:class:`FieldsSeen`, stored as JSON in ``fields_seen`` of ``raw.<family>_files``). Against the
current contract and the family's other files that gives:

* **unknown** paths: carried, but not in the contract (schema drift, kept by the loader);
* **missing** known paths: carried by no record of the file, although the family's other files
  carry them so often that their absence from this file is no chance: with a share ``p`` of
  records (or objects, for a member) carrying the field elsewhere and ``n`` records here,
  ``(1 - p) ** n < UNLIKELY``. An optional field a vendor leaves out when it has no value
  (``updated_at`` only on a later crawl, a member without e-mail) is no such field.

A file with both is a *suspected rename* (a vendor renamed ``rating`` to ``score``): the
Dagster check ``landing_field_renames`` warns about it. An unknown field alone is ordinary
drift and a missing field alone is no rename, so neither warns. The first file of a family has
nothing to be compared with.

Paths use dots for nesting: ``respondent.phone``, ``messages.body``. Below a known object or
list only its members are noted (one level per known level); an unknown field is noted by its
own name only. ``*`` counts the records, ``<path>.*`` the objects (or list items) observed at
``path``: the denominators of the shares. Of a list, the first and the last item are observed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from loaders.contracts.spec import VERSION_COLUMN, FieldSpec, Kind, RecordSpec

MAX_UNKNOWN_PATHS = 50
"""Unknown paths kept per file: a vendor that sends data as keys must not bloat the load log."""
UNLIKELY = 1e-3
"""A known field counts as missing when chance alone would leave it out less often than this."""
_MAX_SHAPES = 1000
"""Distinct key tuples held per path before they are folded into counts (bounds the memory)."""


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


def container_key(parent: str) -> str:
    """The evidence key counting the records (``*``) or the objects at ``parent`` (``parent.*``)."""
    return f"{parent}.*" if parent else "*"


def _is_count_key(path: str) -> bool:
    return path == "*" or path.endswith(".*")


class FieldsSeen:
    """Counts the field paths of the valid records of one file, cheaply: one key tuple per
    distinct shape (a file's records mostly share a few), expanded to paths at the end."""

    def __init__(self, spec: RecordSpec) -> None:
        self._known = contract_paths(spec)
        self._plan = _member_plan(spec.fields, "")
        self._shapes: dict[str, Counter[tuple]] = {"": Counter()}
        for path in _plan_paths(self._plan):
            self._shapes[path] = Counter()
        self._folded: Counter[str] = Counter()

    def observe(self, record: Mapping[str, Any]) -> None:
        top = self._shapes[""]
        top[tuple(record)] += 1
        self._observe_members(self._plan, record)
        if len(top) > _MAX_SHAPES:
            self._fold()

    def _observe_members(self, plan: list[tuple], container: Mapping[str, Any]) -> None:
        for name, path, is_list, children in plan:
            value = container.get(name)
            if not value:
                continue
            shapes = self._shapes[path]
            if is_list:
                # the first and the last item stand for the list: a renamed member is in every item
                items = (value if len(value) <= 2 else (value[0], value[-1])) if isinstance(value, list) else ()
            else:
                items = [value]
            for item in items:
                if isinstance(item, dict):
                    shapes[tuple(item)] += 1
                    if children:
                        self._observe_members(children, item)
            if len(shapes) > _MAX_SHAPES:
                self._fold()

    def _fold(self) -> None:
        """Turn the key tuples held into path counts; keep every known and the first unknown paths."""
        folded = self._folded
        for parent, shapes in self._shapes.items():
            prefix = f"{parent}." if parent else ""
            for keys, count in shapes.items():
                folded[container_key(parent)] += count
                for key in keys:
                    if isinstance(key, str):
                        folded[f"{prefix}{key}"] += count
            shapes.clear()
        folded.pop(VERSION_COLUMN, None)
        unknown = sorted(p for p in folded if p not in self._known and not _is_count_key(p))
        for path in unknown[MAX_UNKNOWN_PATHS:]:
            del folded[path]

    def counts(self) -> dict[str, int]:
        """Records (or objects) carrying each path, with the ``*`` denominators."""
        self._fold()
        return dict(self._folded)

    def to_json(self) -> str | None:
        """The load-log value: :meth:`counts` as a JSON object with sorted keys; ``None`` when no
        valid record was seen (nothing to compare)."""
        counts = self.counts()
        return json.dumps(counts, sort_keys=True, ensure_ascii=False) if counts.get("*") else None


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
    """How the fields one file carried differ from its contract and its family's other files."""

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


def spec_for_fields(specs: Iterable[RecordSpec], seen: Iterable[str]) -> RecordSpec | None:
    """The spec of a family whose records carried ``seen`` (families with two tables share one
    load log; a valid record always carries its table's id field)."""
    specs = list(specs)
    if len(specs) == 1:
        return specs[0]
    seen = set(seen)
    matching = [spec for spec in specs if spec.id_field in seen]
    return matching[0] if len(matching) == 1 else None


def parse_evidence(fields_seen_json: str | None) -> dict[str, int] | None:
    """A ``fields_seen`` value as counts; ``None`` for no evidence (api pages, refused paths)."""
    if not fields_seen_json:
        return None
    value = json.loads(fields_seen_json)
    return value if isinstance(value, dict) and value.get("*") else None


def family_drift(specs: Iterable[RecordSpec], rows: Iterable[tuple[str, str | None]]) -> list[FieldDrift]:
    """The drift of every load-log row ``(file, fields_seen)`` with evidence, each file judged
    against the family's other files of the same table."""
    specs = list(specs)
    evidence = []
    for file, text in rows:
        counts = parse_evidence(text)
        spec = spec_for_fields(specs, counts) if counts else None
        if spec is not None:
            evidence.append((file, spec, counts))
    totals: dict[str, Counter[str]] = {}
    for _, spec, counts in evidence:
        totals.setdefault(spec.table, Counter()).update(counts)
    return [_drift(file, spec, counts, totals[spec.table]) for file, spec, counts in evidence]


def _drift(file: str, spec: RecordSpec, counts: dict[str, int], totals: Counter[str]) -> FieldDrift:
    known = contract_paths(spec)
    missing = []
    for path in sorted(known - set(counts)):
        parent = path.rpartition(".")[0]
        here = counts.get(container_key(parent), 0)
        elsewhere = totals[container_key(parent)] - here
        carried_elsewhere = totals[path]  # this file carried it 0 times
        if here == 0 or elsewhere <= 0 or carried_elsewhere == 0:
            continue
        share = min(carried_elsewhere / elsewhere, 1.0)
        if (1.0 - share) ** here < UNLIKELY:
            missing.append(path)
    unknown = sorted(p for p in counts if p not in known and not _is_count_key(p))
    return FieldDrift(file, spec.table, tuple(missing), tuple(unknown))
