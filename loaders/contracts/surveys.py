"""Survey responses (``surveys/``): the record spec and the flat CSV export's shape."""

from __future__ import annotations

from typing import Any, Mapping

from loaders.contracts.spec import FieldSpec, Kind, Personal, RecordSpec, personal, text, ts

SURVEY_SPEC = RecordSpec(
    table="surveys",
    id_field="response_id",
    fields=(
        text("survey_id"),
        text("survey_name"),
        ts("submitted_at"),
        ts("updated_at"),
        text("channel"),
        FieldSpec(
            "respondent",
            Kind.OBJECT,
            (text("member_id"), personal("phone", Personal.PHONE), personal("unionid", Personal.UNIONID), personal("email", Personal.EMAIL)),
        ),
        FieldSpec(
            "answers",
            Kind.OBJECT,
            (
                FieldSpec("nps", Kind.SCORE, low=0, high=10),
                FieldSpec("csat", Kind.SCORE, low=1, high=5),
                FieldSpec("ces", Kind.SCORE, low=1, high=7),
                personal("comment", Personal.FREE_TEXT),
            ),
        ),
        text("store_id"),
        text("product_sku"),
        text("order_id"),
    ),
    version_fields=("updated_at", "submitted_at"),
)

SURVEY_CSV_COLUMNS = (
    "response_id",
    "survey_id",
    "survey_name",
    "submitted_at",
    "updated_at",
    "channel",
    "member_id",
    "phone",
    "unionid",
    "email",
    "nps",
    "csat",
    "ces",
    "comment",
    "store_id",
    "product_sku",
    "order_id",
)
_CSV_NESTING = {
    "member_id": "respondent",
    "phone": "respondent",
    "unionid": "respondent",
    "email": "respondent",
    "nps": "answers",
    "csat": "answers",
    "ces": "answers",
    "comment": "answers",
}


def survey_csv_row_to_json_shape(row: Mapping[str, Any]) -> dict[str, Any]:
    """Restructure a flat CSV survey row into the JSON export shape.

    ``member_id, phone, unionid, email`` go under ``respondent``, ``nps, csat, ces, comment``
    under ``answers``; every other column (unknown ones too) stays top-level. Header names are
    stripped of whitespace and empty strings become null, as CSV cannot express null.
    """
    shaped: dict[str, Any] = {"respondent": {}, "answers": {}}
    for raw_name, raw_value in row.items():
        name = str(raw_name).strip()
        value = None if raw_value is None or raw_value == "" else raw_value
        parent = _CSV_NESTING.get(name)
        if parent is None:
            shaped[name] = value
        else:
            shaped[parent][name] = value
    return shaped
