"""The landing-folder families, named once; the other family lists derive from these.

Imported by the loaders, the Dagster settings and sensors (without importing dlt) and devtools,
and mirrored by the dbt var ``voc_loader_families`` that the loader staging models loop over
(``tests/test_loaders.py`` checks the two agree).
"""

FAMILIES = ("surveys", "tickets", "reviews", "social", "members", "reference")
"""Every landing-folder family: each has a quarantine and a load-log table."""

FEEDBACK_FAMILIES = ("surveys", "tickets", "reviews", "social")
"""The families whose records carry customer feedback text."""

API_FAMILIES = (*FEEDBACK_FAMILIES, "members")
"""The families that have a vendor API (reference data is only ever a file export)."""
