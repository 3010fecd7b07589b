"""The enrichment's progress reaches the Dagster run log: dagster-dbt drops dbt's log lines, so
``orchestration.project.forward_nlp_progress`` tees them out of the invocation's output."""

from __future__ import annotations

from nlp_udfs.progress import progress_message
from orchestration.project import forward_nlp_progress

# a progress line as dbt prints it with --log-format json (dbt-adapters' AdapterEventInfo, E002)
PROGRESS_EVENT = {
    "data": {"args": [], "base_msg": "nlp text analysis: 14,336 of 77,340 rows (19%), 1,101 rows/s, about 57 s left",
             "name": "voc_nlp"},
    "info": {"code": "E002", "level": "info", "name": "AdapterEventInfo",
             "msg": "voc_nlp adapter: nlp text analysis: 14,336 of 77,340 rows (19%), 1,101 rows/s, about 57 s left"},
}
OTHER_ADAPTER_EVENT = {"data": {"name": "duckdb", "base_msg": "x"},
                       "info": {"name": "AdapterEventInfo", "msg": "duckdb adapter: x", "level": "info"}}
NODE_EVENT = {"data": {"node_info": {"unique_id": "model.voc.fct_feedback"}},
              "info": {"name": "LogModelResult", "msg": "1 of 2 OK created", "level": "info"}}


class FakeInvocation:
    def _stream_stdout(self):
        yield from ["not json", OTHER_ADAPTER_EVENT, PROGRESS_EVENT, NODE_EVENT]


def test_progress_message_is_picked_from_the_dbt_events():
    assert progress_message(PROGRESS_EVENT) == (
        "nlp text analysis: 14,336 of 77,340 rows (19%), 1,101 rows/s, about 57 s left"
    )
    assert progress_message(OTHER_ADAPTER_EVENT) is None
    assert progress_message(NODE_EVENT) is None
    assert progress_message("voc_nlp adapter: plain text") is None


def test_the_stream_is_teed_unchanged_and_progress_logged():
    invocation, logged = FakeInvocation(), []
    assert forward_nlp_progress(invocation, logged.append)
    assert list(invocation._stream_stdout()) == ["not json", OTHER_ADAPTER_EVENT, PROGRESS_EVENT, NODE_EVENT]
    assert logged == ["nlp text analysis: 14,336 of 77,340 rows (19%), 1,101 rows/s, about 57 s left"]


def test_an_invocation_without_the_stream_is_left_alone():
    assert forward_nlp_progress(object(), print) is False


def test_dagster_dbt_still_reads_its_output_through_the_hooked_stream():
    """The private method the forwarder wraps is still where dagster-dbt reads dbt's output."""
    import inspect

    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

    assert "self._stream_stdout()" in inspect.getsource(DbtCliInvocation.stream_raw_events)
