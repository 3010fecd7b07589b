"""Unit tests of api-mode configuration, request parameters, paginators and cursor rules."""

import json
from datetime import datetime, timezone

import pytest
from record_guard import TEST_GUARD
from requests import Request, Response

from loaders.api.config import ApiConfig, ApiConfigError, ApiSourceConfig, HttpRetrySettings
from loaders.api.endpoints import (
    ENDPOINTS,
    CursorStyle,
    IncrementalExportPaginator,
    TotalResultsPaginator,
    advance_cursor,
)
from loaders.api.sources import ApiPageError, find_api_page_error, page_label, split_page
from loaders.contracts import SURVEY_SPEC, VERSION_COLUMN
from orchestration.settings import api_config_from_env, api_source_config_from_env


def _response(body: dict, url: str = "http://vendor/x") -> Response:
    response = Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    response.url = url
    return response


def test_mode_defaults_to_file_and_rejects_unknown_values():
    assert api_config_from_env({}) == ApiConfig()
    assert ApiConfig().mode("surveys") == "file"
    api = api_config_from_env({"VOC_TICKETS_MODE": " API ", "VOC_TICKETS_BASE_URL": "http://vendor"})
    assert api.mode("tickets") == "api" and api.mode("surveys") == "file"
    assert api_config_from_env({"VOC_REFERENCE_MODE": "api"}).mode("reference") == "file"  # no vendor API
    with pytest.raises(ApiConfigError, match="VOC_SOCIAL_MODE"):
        api_config_from_env({"VOC_SOCIAL_MODE": "ftp"})


def test_api_config_needs_a_base_url_and_hides_the_token():
    with pytest.raises(ApiConfigError, match="VOC_MEMBERS_BASE_URL is not set"):
        api_config_from_env({"VOC_MEMBERS_MODE": "api"})
    config = api_source_config_from_env(
        "members", {"VOC_MEMBERS_BASE_URL": "https://crm.example.com/", "VOC_MEMBERS_TOKEN": "s3cret", "VOC_MEMBERS_PAGE_SIZE": "7"}
    )
    assert config == ApiSourceConfig("members", "https://crm.example.com", "s3cret", 7)
    assert "s3cret" not in repr(config) and "s3cret" not in config.describe()
    assert "bearer token set" in config.describe()


def test_retry_settings_come_from_the_environment_and_are_checked():
    assert api_config_from_env({}).http == HttpRetrySettings()
    settings = api_config_from_env({"VOC_API_MAX_ATTEMPTS": "3", "VOC_API_TIMEOUT_SECONDS": "2.5"}).http
    assert (settings.max_attempts, settings.timeout_seconds) == (3, 2.5)
    with pytest.raises(ApiConfigError, match="VOC_API_MAX_ATTEMPTS"):
        api_config_from_env({"VOC_API_MAX_ATTEMPTS": "0"})
    budget = api_config_from_env({"VOC_API_STEP_RETRIES": "5", "VOC_API_STEP_RETRY_SECONDS": "1"})
    assert (budget.step_retries, budget.step_retry_seconds) == (5, 1)
    assert (ApiConfig().step_retries, ApiConfig().step_retry_seconds) == (2, 60)
    assert api_config_from_env({"VOC_API_STEP_RETRIES": "0"}).step_retries == 0
    for bad in ("two", "-1", "1.5"):
        with pytest.raises(ApiConfigError, match="VOC_API_STEP_RETRIES"):
            api_config_from_env({"VOC_API_STEP_RETRIES": bad})


def test_first_request_parameters_follow_the_contract():
    assert ENDPOINTS["surveys"].first_params(None, 50) == {"page_size": 50}
    assert ENDPOINTS["surveys"].first_params("2026-01-01T00:00:00+00:00", 50)["updated_since"] == "2026-01-01T00:00:00+00:00"
    assert ENDPOINTS["tickets"].first_params(None, 50) == {"start_time": 0}
    assert ENDPOINTS["tickets"].first_params("abc", 50) == {"cursor": "abc"}
    assert ENDPOINTS["reviews"].first_params("2026-01-01", 20) == {"method": "reviews.list", "page_size": 20, "start_modified": "2026-01-01"}
    assert ENDPOINTS["social"].first_params(None, 30) == {"limit": 30}
    assert ENDPOINTS["members"].first_params(None, 30) == {}


def test_reviews_pages_end_when_total_results_have_arrived_even_if_pages_are_capped():
    paginator = TotalResultsPaginator(page_size=100)  # asks for 100, the vendor sends 10
    request = Request("GET", "http://vendor/router/rest", params={})
    paginator.init_request(request)
    assert request.params["page_no"] == 1
    paginator.update_state(_response({"total_results": 25}), [1] * 10)
    paginator.update_request(request)
    assert paginator.has_next_page and request.params["page_no"] == 2
    paginator.update_state(_response({"total_results": 25}), [1] * 10)
    assert paginator.has_next_page
    paginator.update_state(_response({"total_results": 25}), [1] * 5)
    assert not paginator.has_next_page
    paginator.init_request(request)
    paginator.update_state(_response({"total_results": 25}), [])
    assert not paginator.has_next_page  # an empty page ends the walk


def test_ticket_export_follows_after_cursor_until_end_of_stream_and_drops_start_time():
    paginator = IncrementalExportPaginator()
    request = Request("GET", "http://vendor/t", params={"start_time": 0})
    paginator.update_state(_response({"tickets": [1], "after_cursor": "c1", "end_of_stream": False}), [1])
    paginator.update_request(request)
    assert paginator.has_next_page and request.params == {"cursor": "c1"}
    paginator.update_state(_response({"tickets": [], "after_cursor": "c2", "end_of_stream": True}), [])
    assert not paginator.has_next_page


def test_cursors_advance_by_style():
    newer = datetime(2026, 5, 1, tzinfo=timezone.utc)
    records = [{VERSION_COLUMN: datetime(2026, 4, 1, tzinfo=timezone.utc)}, {VERSION_COLUMN: newer}]
    page = _response({"after_cursor": "c9"}, url="http://vendor/v1/mentions?limit=5&cursor=p3")
    assert advance_cursor(CursorStyle.TIMESTAMP, None, page, records) == newer.isoformat()
    assert advance_cursor(CursorStyle.TIMESTAMP, "2027-01-01T00:00:00+00:00", page, records) == "2027-01-01T00:00:00+00:00"
    assert advance_cursor(CursorStyle.TIMESTAMP, "x", page, []) == "x"
    assert advance_cursor(CursorStyle.EXPORT_CURSOR, "c1", page, []) == "c9"
    assert advance_cursor(CursorStyle.FEED_POSITION, None, page, []) == "p3"
    first_page = _response({}, url="http://vendor/v1/mentions?limit=5")
    assert advance_cursor(CursorStyle.FEED_POSITION, "p1", first_page, []) == "p1"


def test_a_page_splits_into_raw_rows_and_quarantine_rows_named_after_the_page():
    label = page_label("surveys", "http://vendor/api/v1/responses?page=3&page_size=2")
    assert label == "api:surveys?page=3&page_size=2"
    good = {"response_id": "R1", "submitted_at": "2026-01-01 10:00:00", "answers": {"nps": 9}}
    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    valid, rejected = split_page([good, {"answers": {"nps": 11}}, "garbage"], SURVEY_SPEC, "surveys", label, now, TEST_GUARD)
    assert [(r["response_id"], r["_voc_file"], r["_voc_line"]) for r in valid] == [("R1", label, 1)]
    assert [(q["line"], q["reason"], q["raw_payload"]) for q in rejected] == [
        (2, "missing_id", '{"answers": {"nps": 11}}'),
        (3, "not_an_object", "garbage"),
    ]


def test_the_page_error_is_found_behind_dlt_wrappers():
    page_error = ApiPageError("tickets", 4, "http://vendor/t?cursor=c", "500 Server Error")
    try:
        try:
            raise page_error
        except ApiPageError as exc:
            raise RuntimeError("pipeline step failed") from exc
    except RuntimeError as wrapped:
        assert find_api_page_error(wrapped) is page_error
    assert find_api_page_error(ValueError("other")) is None
    assert str(page_error).startswith("tickets API: page 4 of this run failed after all retries (host vendor): 500")
    assert "cursor=c" not in str(page_error)
