"""A static HTML report of the latest validation of every suite, beside the warehouse.

Each check run writes its suites' outcomes as JSON (``results/<check>.json``) and rebuilds
``index.html`` from all of them, so the page always shows the newest result of every check,
whichever run produced it. Sample rows are masked before they get here (``expectations.masking``).
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from expectations.runner import SuiteOutcome

REPORT_DIR_NAME = "quality_report"


def report_dir_for(warehouse_path: Path) -> Path:
    """``<warehouse dir>/quality_report`` (``data/warehouse/quality_report`` for ``make run``)."""
    return Path(warehouse_path).resolve().parent / REPORT_DIR_NAME


def outcomes_as_json(check_name: str, outcomes: Iterable[SuiteOutcome], validated_at: datetime) -> dict[str, Any]:
    """The JSON document one check run leaves behind."""
    return {
        "check": check_name,
        "validated_at": validated_at.isoformat(timespec="seconds"),
        "suites": [
            {
                "suite": outcome.suite.name,
                "layer": outcome.suite.layer,
                "asset": "/".join(outcome.suite.asset_path),
                "relation": outcome.suite.relation,
                "seconds": round(outcome.seconds, 3),
                "expectations": [asdict(result) for result in outcome.outcomes],
            }
            for outcome in outcomes
        ],
    }


def _write_atomically(path: Path, text: str) -> None:
    # a reader (browser, test) never sees half a file
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temporary, 0o644)  # mkstemp makes it private; the report is meant to be opened by anyone
    os.replace(temporary, path)


def _status_cell(expectation: dict[str, Any]) -> str:
    if expectation["success"]:
        return '<td class="ok">passed</td>'
    label = "failed" if expectation["severity"] == "error" else "warning"
    return f'<td class="{label}">{label}</td>'


def _expectation_row(expectation: dict[str, Any]) -> str:
    detail = expectation.get("error") or ""
    samples = expectation.get("samples") or []
    if samples:
        detail += "<pre>" + html.escape(json.dumps(samples, ensure_ascii=False, indent=1, default=str)) + "</pre>"
    return (
        "<tr>"
        + _status_cell(expectation)
        + f"<td>{html.escape(expectation['severity'])}</td>"
        + f"<td>{html.escape(expectation['expectation'])}</td>"
        + f"<td>{html.escape(json.dumps(expectation.get('observed'), default=str))}</td>"
        + f"<td>{detail if samples else html.escape(detail)}</td>"
        + "</tr>"
    )


def render_report(documents: Iterable[dict[str, Any]]) -> str:
    """The whole HTML page for the given check documents (sorted by layer, then suite)."""
    layer_order = {"raw": 0, "staging": 1, "marts": 2}
    suites = sorted(
        (
            {**suite, "check": document["check"], "validated_at": document["validated_at"]}
            for document in documents
            for suite in document["suites"]
        ),
        key=lambda suite: (layer_order.get(suite["layer"], 9), suite["suite"]),
    )
    failed = sum(
        1 for suite in suites for expectation in suite["expectations"]
        if not expectation["success"] and expectation["severity"] == "error"
    )
    warned = sum(
        1 for suite in suites for expectation in suite["expectations"]
        if not expectation["success"] and expectation["severity"] == "warn"
    )
    sections = []
    for suite in suites:
        rows = "".join(_expectation_row(expectation) for expectation in suite["expectations"])
        sections.append(
            f"<h2>{html.escape(suite['layer'])} · {html.escape(suite['suite'])}</h2>"
            f"<p>Asset <code>{html.escape(suite['asset'])}</code>, relation "
            f"<code>{html.escape(suite['relation'])}</code>, check <code>{html.escape(suite['check'])}</code>, "
            f"validated {html.escape(suite['validated_at'])} in {suite['seconds']} s.</p>"
            "<table><tr><th>result</th><th>severity</th><th>expectation</th><th>observed</th>"
            f"<th>error / failing rows (masked)</th></tr>{rows}</table>"
        )
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>VoC data quality</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top;text-align:left}"
        ".ok{background:#dfd}.failed{background:#fcc}.warning{background:#ffd}pre{margin:0;font-size:85%}"
        "</style></head><body><h1>VoC data quality: latest validation of every suite</h1>"
        f"<p>{len(suites)} suites; {failed} failed ERROR expectations, {warned} failed WARN expectations. "
        f"Page built {generated}.</p>" + "".join(sections) + "</body></html>"
    )


def write_report(report_dir: Path, check_name: str, outcomes: Iterable[SuiteOutcome]) -> Path:
    """Store this check's outcomes and rebuild ``index.html``; returns the page's path."""
    document = outcomes_as_json(check_name, outcomes, datetime.now(timezone.utc))
    results_dir = report_dir / "results"
    _write_atomically(
        results_dir / f"{check_name}.json", json.dumps(document, ensure_ascii=False, indent=1, default=str)
    )
    documents = [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(results_dir.glob("*.json"))
    ]
    index = report_dir / "index.html"
    _write_atomically(index, render_report(documents))
    return index
