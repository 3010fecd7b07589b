"""dbt-duckdb plugin that registers the VoC NLP UDFs on every dbt connection.

profiles.yml::

    plugins:
      - module: nlp_udfs.dbt_plugin
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from .duckdb_functions import register_functions


class Plugin(BasePlugin):
    """Registers ``voc_enrich``, ``voc_mask_pii`` and ``voc_clean_text``."""

    def configure_connection(self, conn):  # noqa: ANN001 - signature defined by BasePlugin
        register_functions(conn)
