"""dbt-duckdb plugin that registers the VoC NLP UDFs and ``voc_pseudonym`` on every dbt connection.

profiles.yml::

    plugins:
      - module: nlp_udfs.dbt_plugin
        config:
          segmenter: rjieba        # or jieba
          sentiment_model: "on"    # off = lexicon only
          workers: ""              # empty = the CPU count
          cache_size: ""           # empty = 50000 rows, 0 = off
          pseudonym_key: "{{ env_var('DBT_ENV_SECRET_VOC_HASH_KEY', '') }}"

Each NLP value may be empty (the ``NlpConfig`` default) and may come from dbt's ``env_var()``.
``pseudonym_key`` is the key of ``voc_pseudonym`` as ``nlp_udfs.pseudonyms.encode_key`` writes
it (``hex:...``), empty for the demo key. It comes from a ``DBT_ENV_SECRET_`` variable, whose
value dbt scrubs from its logs, and it is kept in this process only: it never becomes SQL text,
a dbt var or an artifact.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from . import progress, pseudonyms
from .config import NlpConfig
from .duckdb_functions import register_functions

PSEUDONYM_KEY_CONFIG = "pseudonym_key"


class Plugin(BasePlugin):
    """Registers ``voc_enrich``, ``voc_mask_pii``, ``voc_mask_payload``, ``voc_clean_text`` (and
    their helpers) and ``voc_pseudonym``."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.nlp_config = NlpConfig.from_strings(plugin_config)
        self._pseudonym_key = pseudonyms.decode_key(plugin_config.get(PSEUDONYM_KEY_CONFIG))
        # progress of a long enrichment step (rows, rate, time left) goes to dbt's log: the
        # terminal of `voc run` and the dbt step's output in Dagster
        from dbt.adapters.events.logging import AdapterLogger

        progress.set_sink(AdapterLogger("voc_nlp").info)

    def configure_connection(self, conn):  # noqa: ANN001 - signature defined by BasePlugin
        register_functions(conn, self.nlp_config)
        pseudonyms.register(conn, self._pseudonym_key)
