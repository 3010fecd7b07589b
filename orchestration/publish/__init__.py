"""Write, audit, publish: the marts a night has checked, copied into a read-only publication that
readers open instead of the working warehouse (docs/publishing.md).

``publication`` builds, swaps, lists and rolls back publications without Dagster; ``asset``
is the Dagster side (the ``published_marts`` asset and the hook that says why a night did not
publish).
"""
