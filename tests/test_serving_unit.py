"""Serving to PostgreSQL without a server: type mapping, the manifest, and no secret in any
error or log when the server cannot be reached."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from click.testing import CliRunner
from serving_publications import write_publication

from orchestration.cli import main
from orchestration.serving.postgres import ServingError, describe_target, pg_type, read_publication, serve_publication
from orchestration.settings import VocSettings

PASSWORD = "S3cret-pw-7731"


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        ("VARCHAR", "text"),
        ("BIGINT", "bigint"),
        ("INTEGER", "integer"),
        ("DOUBLE", "double precision"),
        ("DECIMAL(10,2)", "numeric(10,2)"),
        ("DECIMAL(18, 3)", "numeric(18,3)"),
        ("DATE", "date"),
        ("TIMESTAMP", "timestamp"),
        ("TIMESTAMP WITH TIME ZONE", "timestamptz"),
        ("TIMESTAMPTZ", "timestamptz"),
        ("BOOLEAN", "boolean"),
        ("VARCHAR[]", "text[]"),
        ("BIGINT[]", "bigint[]"),
        ("STRUCT(kind VARCHAR, weight INTEGER)", "jsonb"),
        ("MAP(VARCHAR, INTEGER)", "jsonb"),
        ("STRUCT(a INTEGER)[]", "jsonb"),
        ("VARCHAR[][]", "jsonb"),
        ("JSON", "jsonb"),
        ("UBIGINT", "numeric(20,0)"),
        ("HUGEINT", "numeric(38,0)"),
    ],
)
def test_duckdb_types_map_to_postgres_types(duckdb_type, expected):
    assert pg_type(duckdb_type) == expected


def test_an_unknown_type_is_refused_not_guessed():
    with pytest.raises(ServingError, match="no PostgreSQL type"):
        pg_type("GEOMETRY")


def test_the_manifest_is_read_with_keys_filters_and_columns(tmp_path):
    write_publication(tmp_path / "pub", "run-1", rows=40)
    publication = read_publication(tmp_path / "pub")
    marts = {mart.name: mart for mart in publication.marts}
    assert publication.run_id == "run-1"
    assert marts["kpi_daily"].primary_key == ("feedback_date", "source", "store_id")
    assert marts["tag_trends"].primary_key == ()
    assert marts["fct_feedback"].rows == 40
    assert "tags" in marts["fct_feedback"].filter_columns
    assert {c.duckdb_type for c in marts["fct_feedback"].columns} >= {"VARCHAR[]", "TIMESTAMP WITH TIME ZONE"}


def test_a_bad_manifest_is_refused(tmp_path):
    write_publication(tmp_path / "pub", "run-1", rows=10)
    manifest = json.loads((tmp_path / "pub" / "manifest.json").read_text())
    manifest["format"] = 2
    (tmp_path / "pub" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ServingError, match="format 2"):
        read_publication(tmp_path / "pub")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_describe_target_names_host_port_and_database_only():
    assert describe_target(f"postgresql://bi:{PASSWORD}@db.example.com:6543/voc") == "db.example.com:6543/voc"
    assert describe_target(f"host=db.example.com password={PASSWORD} dbname=voc") == "db.example.com:5432/voc"
    assert describe_target(f"postgresql://bi:{PASSWORD}@db.example.com:notaport/voc") == "db.example.com:notaport/voc"
    assert describe_target(f"postgresql://bi:{PASSWORD}@/voc?host=/run/postgresql") == "local socket:5432/voc"
    assert PASSWORD not in describe_target(f"not a url {PASSWORD} ==")


def test_an_unreachable_server_error_never_holds_the_url_or_password(tmp_path, caplog, capsys):
    write_publication(tmp_path / "pub", "run-1", rows=10)
    port = _closed_port()
    url = f"postgresql://voc_admin:{PASSWORD}@127.0.0.1:{port}/voc"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ServingError) as failure:
        serve_publication(tmp_path / "pub", url)
    message = str(failure.value)
    assert f"127.0.0.1:{port}/voc" in message and "connecting" in message
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    captured = capsys.readouterr()
    for text in (message, repr(failure.value), caplog.text, captured.out, captured.err):
        assert PASSWORD not in text and "voc_admin:" not in text


def test_the_serve_cli_never_prints_the_url(tmp_path):
    port = _closed_port()
    env = {"VOC_SERVE_POSTGRES_URL": f"postgresql://voc_admin:{PASSWORD}@127.0.0.1:{port}/voc",
           "VOC_SERVE_READONLY_PASSWORD": "reader-" + PASSWORD}
    runner = CliRunner()
    for arguments in (["serve", "status"], ["serve", "grant-readonly", "bi_reader", "--login"]):
        result = runner.invoke(main, arguments, env=env)
        assert result.exit_code == 1, result.output
        assert f"127.0.0.1:{port}/voc" in result.output
        assert PASSWORD not in result.output and "voc_admin" not in result.output


def test_the_serve_cli_says_when_no_url_is_set():
    result = CliRunner().invoke(main, ["serve", "status"], env={"VOC_SERVE_POSTGRES_URL": ""})
    assert result.exit_code == 2 and "VOC_SERVE_POSTGRES_URL is not set" in result.output


def test_the_settings_keep_the_url_out_of_repr():
    settings = VocSettings.from_env({"VOC_SERVE_POSTGRES_URL": f"postgresql://u:{PASSWORD}@h/voc",
                                     "VOC_SERVE_READONLY_PASSWORD": "x" + PASSWORD})
    assert settings.serve_postgres_url == f"postgresql://u:{PASSWORD}@h/voc"
    assert PASSWORD not in repr(settings)
    assert VocSettings.from_env({}).serve_postgres_url is None
