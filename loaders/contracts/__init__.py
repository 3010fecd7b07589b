"""The record contracts of the source contract (``/shared/contracts/sources.md``), one module per
source family, written in the vocabulary of ``loaders.contracts.spec``.

``RECORD_SPECS`` maps each raw table to its spec, ``FAMILY_SPECS`` each landing-folder family to
the specs of its raw tables (``reference`` has two).
"""

from loaders.contracts.members import MEMBER_SPEC
from loaders.contracts.reference import PRODUCT_SPEC, STORE_SPEC
from loaders.contracts.reviews import REVIEW_SPEC
from loaders.contracts.social import SOCIAL_SPEC
from loaders.contracts.spec import VERSION_COLUMN, FieldSpec, Kind, RecordSpec
from loaders.contracts.surveys import SURVEY_SPEC
from loaders.contracts.tickets import TICKET_SPEC

FAMILY_SPECS: dict[str, tuple[RecordSpec, ...]] = {
    "surveys": (SURVEY_SPEC,),
    "tickets": (TICKET_SPEC,),
    "reviews": (REVIEW_SPEC,),
    "social": (SOCIAL_SPEC,),
    "members": (MEMBER_SPEC,),
    "reference": (STORE_SPEC, PRODUCT_SPEC),
}
"""Record specs (one per raw table) of each family."""

RECORD_SPECS: dict[str, RecordSpec] = {
    spec.table: spec for specs in FAMILY_SPECS.values() for spec in specs
}
"""Record spec per raw table name."""

__all__ = [
    "FAMILY_SPECS",
    "MEMBER_SPEC",
    "PRODUCT_SPEC",
    "RECORD_SPECS",
    "REVIEW_SPEC",
    "SOCIAL_SPEC",
    "STORE_SPEC",
    "SURVEY_SPEC",
    "TICKET_SPEC",
    "VERSION_COLUMN",
    "FieldSpec",
    "Kind",
    "RecordSpec",
]
