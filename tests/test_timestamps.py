"""Unit tests for loaders.timestamps.parse_vendor_timestamp."""

from datetime import datetime, timezone

import pytest

from loaders.timestamps import parse_vendor_timestamp

UTC = timezone.utc
# 2025-06-01 10:23:45 in Shanghai is 02:23:45 UTC
EXPECTED = datetime(2025, 6, 1, 2, 23, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2025-06-01T10:23:45+08:00",
        "2025-06-01T10:23:45+0800",
        "2025-06-01T02:23:45Z",
        "2025-06-01T02:23:45z",
        "2025-06-01T02:23:45+00:00",
        "2025-05-31T21:23:45-05:00",
        "2025-06-01 10:23:45",  # naive: Asia/Shanghai
        "2025-06-01T10:23:45",
        "  2025-06-01 10:23:45 ",
        1748744625,  # epoch seconds
        "1748744625",
    ],
)
def test_accepted_formats_mean_the_same_instant(value):
    parsed = parse_vendor_timestamp(value)
    assert parsed == EXPECTED
    assert parsed.tzinfo is not None and parsed.utcoffset().total_seconds() == 0


def test_date_only_is_local_midnight():
    assert parse_vendor_timestamp("2025-06-01") == datetime(2025, 5, 31, 16, 0, tzinfo=UTC)


def test_fractional_seconds_and_minute_precision():
    assert parse_vendor_timestamp("2025-06-01T02:23:45.123456Z") == datetime(
        2025, 6, 1, 2, 23, 45, 123456, tzinfo=UTC
    )
    # nanoseconds are truncated to microseconds rather than rejected
    assert parse_vendor_timestamp("2025-06-01T02:23:45.123456789Z").microsecond == 123456
    assert parse_vendor_timestamp("2025-06-01 10:23") == datetime(2025, 6, 1, 2, 23, tzinfo=UTC)


def test_epoch_zero_is_1970():
    assert parse_vendor_timestamp(0) == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        None,
        1748744625.0,  # floats are not epoch seconds in the contract
        -1,
        1748744625000,  # epoch milliseconds: year 57000
        "",
        "   ",
        "yesterday",
        "2025/06/01 10:23:45",
        "2025-13-01",
        "2025-02-30 10:00:00",
        "2025-06-01 25:00:00",
        "2025-06-01T10:23:45+25:00",
        "20250601T102345",  # compact ISO: not sent by any vendor
        "2025-W22-7",
        "1748744625.5",
        "-1748744625",
        "١٢٣",  # non-ASCII digits
        ["2025-06-01"],
        {"at": "2025-06-01"},
    ],
)
def test_rejected_values_raise_value_error(value):
    with pytest.raises(ValueError):
        parse_vendor_timestamp(value)


def _iso_shapes(seed: int, count: int) -> list[str]:
    """Random timestamps in the common shapes, including impossible dates, times and offsets,
    and DST-era Shanghai dates (1986-1991), where a fixed +08:00 would be wrong."""
    import random

    rng = random.Random(seed)
    values = []
    for _ in range(count):
        date = f"{rng.choice([1987, 1990, 2024, 2025, 2026, 9999])}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}"
        if rng.random() < 0.2:
            values.append(date)
            continue
        time = f"{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}:{rng.randint(0, 61):02d}"
        zone = rng.choice(["", "", "Z", f"{rng.choice('+-')}{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}"])
        values.append(f"{date}{rng.choice('T ')}{time}{zone}")
    return values


def test_the_common_shapes_fast_path_agrees_with_the_general_parser():
    """parse_vendor_timestamp reads the usual shapes with datetime.fromisoformat; it must accept
    and reject exactly what the general ISO parser does, and give the same instant."""
    from loaders.timestamps import _COMMON_ISO_PATTERN, parse_iso_timestamp

    def outcome(parse, text):
        try:
            return parse(text)
        except ValueError:
            return "rejected"

    values = _iso_shapes(seed=7, count=20_000)
    fast = [value for value in values if _COMMON_ISO_PATTERN.fullmatch(value)]
    assert len(fast) > 15_000
    outcomes = [(outcome(parse_vendor_timestamp, value), outcome(lambda t: parse_iso_timestamp(t, t), value))
                for value in fast]
    assert sum(1 for got, _ in outcomes if got == "rejected") > 1_000  # the impossible ones were tried
    assert all(got == expected for got, expected in outcomes)
    assert all(got.tzinfo is timezone.utc for got, _ in outcomes if got != "rejected")
