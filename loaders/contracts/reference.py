"""Reference data (``reference/``): stores and products. Rows carry no update time; the file
is the version."""

from __future__ import annotations

from loaders.contracts.spec import RecordSpec, text, ts

STORE_SPEC = RecordSpec(
    table="stores",
    id_field="store_id",
    fields=(text("store_name"), text("city"), text("region"), ts("opened_at")),
    version_fields=("opened_at",),
    version_required=False,
)

PRODUCT_SPEC = RecordSpec(
    table="products",
    id_field="product_sku",
    fields=(text("product_name"), text("category"), text("product_line"), ts("launched_at")),
    version_fields=("launched_at",),
    version_required=False,
)
