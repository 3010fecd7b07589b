"""E-commerce and app-store reviews (``reviews/``)."""

from __future__ import annotations

from loaders.contracts.spec import FieldSpec, Kind, RecordSpec, text, ts

REVIEW_SPEC = RecordSpec(
    table="reviews",
    id_field="review_id",
    fields=(
        text("platform"),
        text("shop_id"),
        text("product_sku"),
        text("order_id"),
        text("buyer_nick"),
        text("buyer_open_id"),
        FieldSpec("rating", Kind.SCORE, low=1, high=5),
        text("content"),
        ts("created_at"),
        ts("modified_at"),
        text("append_content"),
        ts("append_at"),
        FieldSpec("has_images", Kind.BOOLEAN),
        text("seller_reply"),
    ),
    version_fields=("modified_at", "created_at"),
)
