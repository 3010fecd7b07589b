"""CRM member versions (``members/``): every version is kept, not only the newest."""

from __future__ import annotations

from loaders.contracts.spec import VERSION_COLUMN, FieldSpec, Kind, Personal, RecordSpec, personal, text, ts

MEMBER_SPEC = RecordSpec(
    table="members",
    id_field="member_id",
    fields=(
        personal("name", Personal.NAME),
        personal("phone", Personal.PHONE),
        personal("email", Personal.EMAIL),
        personal("unionid", Personal.UNIONID),
        text("tier"),
        text("city"),
        text("home_store_id"),
        ts("registered_at"),
        ts("updated_at"),
        FieldSpec("bound_accounts", Kind.LIST, (text("platform"), personal("account_id", Personal.ACCOUNT))),
        FieldSpec("consent_analytics", Kind.BOOLEAN),
    ),
    version_fields=("updated_at", "registered_at"),
    # every version is a row: identifier history must be kept, so the version is in the key
    extra_primary_key=(VERSION_COLUMN,),
)
