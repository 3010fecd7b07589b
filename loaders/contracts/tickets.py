"""Helpdesk tickets (``tickets/``) with their messages; status changes keep a history."""

from __future__ import annotations

from loaders.contracts.spec import FieldSpec, Kind, Personal, RecordSpec, personal, text, ts

TICKET_SPEC = RecordSpec(
    table="tickets",
    id_field="ticket_id",
    fields=(
        ts("created_at"),
        ts("updated_at"),
        text("channel"),
        text("status"),
        text("priority"),
        text("category"),
        FieldSpec(
            "requester",
            Kind.OBJECT,
            (personal("name", Personal.NAME), personal("phone", Personal.PHONE), personal("email", Personal.EMAIL), text("member_id")),
        ),
        text("assignee_team"),
        text("assignee"),
        text("store_id"),
        text("product_sku"),
        personal("subject", Personal.FREE_TEXT),
        FieldSpec("messages", Kind.LIST, (ts("at"), text("author_role"), personal("body", Personal.FREE_TEXT))),
        ts("first_response_at"),
        ts("solved_at"),
        text("satisfaction_rating"),
    ),
    version_fields=("updated_at", "created_at"),
    history_fields=("status", "updated_at", "solved_at", "assignee_team"),
)
