"""Routing the lists a resource yields to their tables (dlt table variants)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

import dlt


class TableDispatcher:
    """Marks yielded lists for their table; the first list per table carries the full hints.

    The tables are dlt "table variants" of one resource. Variants start from the resource's own
    hints, so the resource decorator declares no columns (the quarantine table would inherit them)
    and every table's columns live in its variant.
    """

    def __init__(self, hints_by_table: dict[str, Any]) -> None:
        self._hints = hints_by_table
        self._announced: set[str] = set()

    @property
    def tables(self) -> list[str]:
        return list(self._hints)

    def fingerprint(self) -> str:
        """Changes when the declared tables change, so they are declared again."""
        text = json.dumps(
            {name: _jsonable_hints(hints) for name, hints in self._hints.items()},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def declare_tables(self, state: dict[str, Any]) -> Iterator[Any]:
        """Declare every table with all its columns, once per version of the hints.

        A materialized empty list creates the table even when no data came, so dbt sources exist
        on a fresh warehouse. ``state`` is the resource state; the fingerprint kept there makes a
        run without new data load nothing at all.
        """
        fingerprint = self.fingerprint()
        if state.get("declared_tables") != fingerprint:
            for table in self.tables:
                yield self.mark(table, dlt.mark.materialize_table_schema())
            state["declared_tables"] = fingerprint

    def mark(self, table: str, items: list[Any]) -> Any:
        if table in self._announced:
            return dlt.mark.with_table_name(items, table)
        self._announced.add(table)
        return dlt.mark.with_hints(items, self._hints[table], create_table_variant=True)


def _jsonable_hints(hints: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "table_name",
        "primary_key",
        "merge_key",
        "write_disposition",
        "columns",
        "nested_hints",
        "file_format",
    )
    return {key: hints.get(key) for key in keep}
