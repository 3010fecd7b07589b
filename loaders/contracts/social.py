"""Social-listening posts (``social/``)."""

from __future__ import annotations

from loaders.contracts.spec import FieldSpec, Kind, Personal, RecordSpec, personal, text, ts

SOCIAL_SPEC = RecordSpec(
    table="social",
    id_field="post_id",
    fields=(
        text("platform"),
        FieldSpec(
            "author",
            Kind.OBJECT,
            (
                personal("uid", Personal.ACCOUNT),
                text("nickname"),
                FieldSpec("followers", Kind.INTEGER),
                FieldSpec("verified", Kind.BOOLEAN),
            ),
        ),
        personal("text", Personal.FREE_TEXT),
        ts("published_at"),
        text("url"),
        FieldSpec("likes", Kind.INTEGER),
        FieldSpec("comments", Kind.INTEGER),
        FieldSpec("reposts", Kind.INTEGER),
        FieldSpec("is_repost", Kind.BOOLEAN),
        # not in the vendor sample, but a later crawl of a post carries its crawl time here
        ts("updated_at"),
    ),
    version_fields=("updated_at", "published_at"),
)
