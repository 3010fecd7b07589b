"""E-commerce and app-store reviews (``reviews/``)."""

from __future__ import annotations

from loaders.contracts.spec import FieldSpec, Kind, Personal, RecordSpec, personal, text, ts

REVIEW_SPEC = RecordSpec(
    table="reviews",
    id_field="review_id",
    fields=(
        text("platform"),
        text("shop_id"),
        text("product_sku"),
        text("order_id"),
        text("buyer_nick"),
        personal("buyer_open_id", Personal.ACCOUNT),
        FieldSpec("rating", Kind.SCORE, low=1, high=5),
        personal("content", Personal.FREE_TEXT),
        ts("created_at"),
        ts("modified_at"),
        personal("append_content", Personal.FREE_TEXT),
        ts("append_at"),
        FieldSpec("has_images", Kind.BOOLEAN),
        personal("seller_reply", Personal.FREE_TEXT),
    ),
    version_fields=("modified_at", "created_at"),
)
