"""dbt-duckdb plugin that registers the VoC NLP UDFs on every dbt connection.

profiles.yml::

    plugins:
      - module: nlp_udfs.dbt_plugin
        config:
          segmenter: rjieba        # or jieba
          sentiment_model: "on"    # off = lexicon only
          workers: ""              # empty = the CPU count
          cache_size: ""           # empty = 50000 rows, 0 = off

Each value may be empty (the ``NlpConfig`` default) and may come from dbt's ``env_var()``.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from .config import NlpConfig
from .duckdb_functions import register_functions


class Plugin(BasePlugin):
    """Registers ``voc_enrich``, ``voc_mask_pii``, ``voc_mask_payload`` and ``voc_clean_text``."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.nlp_config = NlpConfig.from_strings(plugin_config)

    def configure_connection(self, conn):  # noqa: ANN001 - signature defined by BasePlugin
        register_functions(conn, self.nlp_config)
