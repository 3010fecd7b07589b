"""The landing-folder families, named once.

Imported by the loaders, the Dagster settings and sensors (without importing dlt), and mirrored
by the dbt var ``voc_loader_families`` that the loader staging models loop over
(``tests/test_loaders.py`` checks the two agree).
"""

FAMILIES = ("surveys", "tickets", "reviews", "social", "members", "reference")
