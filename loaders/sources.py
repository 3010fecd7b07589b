"""dlt sources for the landing folder (file mode): one source per source family.

``<landing>/<family>/`` holds ``*.jsonl`` and ``*.jsonl.gz`` exports (surveys also ``*.csv`` /
``*.csv.gz``, UTF-8 with or without BOM). Files are read in name order, streaming, line by line
(``loaders.files.readers``); what one resource does with them is ``loaders.files.extract``, the
tables it writes are ``loaders.hints``.

Constructing a source is cheap and does not touch the filesystem: the folder is listed only when
the resource is iterated by ``pipeline.run`` (dagster-dlt builds sources at definition time).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import dlt
from dlt.extract.resource import DltResource

from loaders.contracts import (
    MEMBER_SPEC,
    PRODUCT_SPEC,
    REVIEW_SPEC,
    SOCIAL_SPEC,
    STORE_SPEC,
    SURVEY_SPEC,
    TICKET_SPEC,
    RecordSpec,
)
from loaders.files.columnar import arrow_layout, history_layout
from loaders.files.extract import extract_family_files
from loaders.files.parallel import default_workers
from loaders.files.readers import is_csv_name, is_jsonl_name
from loaders.hints import (
    LOADER_FILE_FORMAT,
    RAW_DATASET,
    disable_timestamp_detection,
    raw_write_disposition,
)
from loaders.privacy import RecordGuard, protect_payload, protect_record, remembering_guard
from loaders.validation import Rejected, validate_record, validate_survey_csv_row


def _file_resource(
    family: str,
    spec: RecordSpec,
    landing_dir: str | os.PathLike[str],
    dataset_name: str,
    accepts_name: Callable[[str], bool],
    guard: RecordGuard,
    validate_csv_row: Callable[[Any], Any] | None = None,
    columnar: bool = True,
    workers: int | None = None,
) -> DltResource:
    """A dlt resource named after the raw table that reads the family's landing files.

    Records are protected (``loaders.privacy``) as they are validated, before dlt sees them.
    ``columnar`` hands them to dlt as Arrow tables (``loaders.files.columnar``); without it they
    go as lists of dicts through dlt's row-by-row normalizer, the loader's former path, kept
    only so that ``tests/test_arrow_load.py`` can show both give the same raw tables.
    ``workers`` processes classify the lines of a large file (``loaders.files.parallel``;
    default: one per core on the columnar path, none on the former path).
    """
    if columnar:
        guard = remembering_guard(guard)
    if workers is None:
        workers = default_workers() if columnar else 1

    def protected(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def validate(value: Any) -> Any:
            result = validator(value)
            return result if isinstance(result, Rejected) else protect_record(spec, result, guard)

        return validate

    def read_landing_files() -> Iterator[Any]:
        yield from extract_family_files(
            family,
            spec,
            landing_dir,
            dataset_name,
            accepts_name,
            protected(lambda value: validate_record(spec, value)),
            protected(validate_csv_row) if validate_csv_row else None,
            protect_quarantined=lambda raw: protect_payload(spec, raw, guard),
            layout=arrow_layout(spec) if columnar else None,
            history=history_layout(spec) if columnar else None,
            workers=workers,
        )

    # No `columns` here: the resource's hints are the template of its table variants (see
    # loaders.dispatch.TableDispatcher); the raw table's columns arrive with its first yielded list.
    return dlt.resource(
        read_landing_files,
        name=spec.table,
        primary_key=list(spec.primary_key),
        write_disposition=raw_write_disposition(spec, dataset_name),
        file_format=LOADER_FILE_FORMAT,
    )


@dlt.source(name="surveys")
def surveys_source(
    landing_dir: str, guard: RecordGuard, dataset_name: str = RAW_DATASET, columnar: bool = True,
    workers: int | None = None,
) -> Any:
    """Survey responses from ``<landing>/surveys/*.jsonl[.gz]`` and ``*.csv[.gz]``."""
    disable_timestamp_detection()
    return _file_resource(
        "surveys",
        SURVEY_SPEC,
        landing_dir,
        dataset_name,
        lambda name: is_jsonl_name(name) or is_csv_name(name),
        guard,
        validate_survey_csv_row,
        columnar,
        workers,
    )


@dlt.source(name="tickets")
def tickets_source(
    landing_dir: str, guard: RecordGuard, dataset_name: str = RAW_DATASET, columnar: bool = True,
    workers: int | None = None,
) -> Any:
    """Helpdesk tickets (with messages) from ``<landing>/tickets/*.jsonl[.gz]``."""
    disable_timestamp_detection()
    return _file_resource(
        "tickets", TICKET_SPEC, landing_dir, dataset_name, is_jsonl_name, guard, columnar=columnar, workers=workers
    )


@dlt.source(name="reviews")
def reviews_source(
    landing_dir: str, guard: RecordGuard, dataset_name: str = RAW_DATASET, columnar: bool = True,
    workers: int | None = None,
) -> Any:
    """E-commerce and app-store reviews from ``<landing>/reviews/*.jsonl[.gz]``."""
    disable_timestamp_detection()
    return _file_resource(
        "reviews", REVIEW_SPEC, landing_dir, dataset_name, is_jsonl_name, guard, columnar=columnar, workers=workers
    )


@dlt.source(name="social")
def social_source(
    landing_dir: str, guard: RecordGuard, dataset_name: str = RAW_DATASET, columnar: bool = True,
    workers: int | None = None,
) -> Any:
    """Social-listening posts from ``<landing>/social/*.jsonl[.gz]``."""
    disable_timestamp_detection()
    return _file_resource(
        "social", SOCIAL_SPEC, landing_dir, dataset_name, is_jsonl_name, guard, columnar=columnar, workers=workers
    )


@dlt.source(name="members")
def members_source(
    landing_dir: str, guard: RecordGuard, dataset_name: str = RAW_DATASET, columnar: bool = True,
    workers: int | None = None,
) -> Any:
    """CRM member versions from ``<landing>/members/*.jsonl[.gz]`` (every version is kept)."""
    disable_timestamp_detection()
    return _file_resource(
        "members", MEMBER_SPEC, landing_dir, dataset_name, is_jsonl_name, guard, columnar=columnar, workers=workers
    )


def _reference_name_filter(prefix: str) -> Callable[[str], bool]:
    return lambda name: is_jsonl_name(name) and name.lower().startswith(prefix)


@dlt.source(name="reference")
def reference_source(
    landing_dir: str, guard: RecordGuard, dataset_name: str = RAW_DATASET, columnar: bool = True,
    workers: int | None = None,
) -> Any:
    """Stores and products from ``<landing>/reference/stores*.jsonl[.gz]`` / ``products*...``.

    Both resources share ``reference_quarantine`` and ``reference_files``; other files in the
    folder are ignored.
    """
    disable_timestamp_detection()
    return (
        _file_resource(
            "reference", STORE_SPEC, landing_dir, dataset_name, _reference_name_filter("stores"), guard, columnar=columnar,
            workers=workers,
        ),
        _file_resource(
            "reference", PRODUCT_SPEC, landing_dir, dataset_name, _reference_name_filter("products"), guard, columnar=columnar,
            workers=workers,
        ),
    )


SOURCES: dict[str, Callable[..., Any]] = {
    "surveys": surveys_source,
    "tickets": tickets_source,
    "reviews": reviews_source,
    "social": social_source,
    "members": members_source,
    "reference": reference_source,
}
"""Source factory per family: ``SOURCES[family](landing_dir, guard)`` returns a dlt source
(``columnar=False``: the former dict path, see ``_file_resource``)."""
