"""Dot-path projection and truncation of execute results (connectors/projection.py)."""

from __future__ import annotations

from connectors.projection import MAX_TEXT_CHARS, TRUNCATION_MARKER, project_result, truncate_long_strings

RECORDS = [
    {
        "id": "in_1",
        "customer": {"id": "cus_1", "address": {"city": "Paris", "zip": "75001"}},
        "lines": {"data": [{"price": 5, "qty": 1}, {"price": 7}, {"qty": 3}]},
        "tags": ["a", "b"],
    },
    {"id": "in_2", "customer": None},
    "not-a-record",
]


def test_select_keeps_paths_through_objects_and_lists_and_skips_what_is_missing():
    out = project_result(RECORDS, select=["id", "customer.address.city", "lines.data.price", "tags"])
    assert out[0] == {
        "id": "in_1",
        "customer": {"address": {"city": "Paris"}},
        "lines": {"data": [{"price": 5}, {"price": 7}, {}]},
        "tags": ["a", "b"],
    }
    assert out[1] == {"id": "in_2"}
    assert out[2] == "not-a-record"


def test_select_of_two_paths_through_one_list_merges_item_by_item():
    out = project_result(RECORDS[:1], select=["lines.data.price", "lines.data.qty"])
    assert out[0]["lines"]["data"] == [{"price": 5, "qty": 1}, {"price": 7}, {"qty": 3}]


def test_exclude_drops_paths_and_applies_after_select():
    out = project_result(RECORDS[:2], exclude=["customer.address.zip", "lines.data.qty", "tags"])
    assert out[0]["customer"]["address"] == {"city": "Paris"}
    assert out[0]["lines"]["data"] == [{"price": 5}, {"price": 7}, {}]
    assert "tags" not in out[0] and out[1] == {"id": "in_2", "customer": None}
    both = project_result(RECORDS[:1], select=["id", "customer"], exclude=["customer.address"])
    assert both == [{"id": "in_1", "customer": {"id": "cus_1"}}]


def test_a_single_object_result_is_one_record_and_nothing_is_mutated():
    record = {"id": "cus_1", "email": "a@example.com"}
    assert project_result(record, select=["email"]) == {"email": "a@example.com"}
    assert record == {"id": "cus_1", "email": "a@example.com"}
    assert project_result(RECORDS) is RECORDS


def test_truncation_cuts_long_strings_at_any_depth():
    long = "x" * (MAX_TEXT_CHARS + 1)
    out = truncate_long_strings({"a": long, "b": [{"c": long}], "d": "x" * MAX_TEXT_CHARS, "n": 5})
    assert out["a"] == "x" * MAX_TEXT_CHARS + TRUNCATION_MARKER
    assert out["b"][0]["c"] == out["a"]
    assert out["d"] == "x" * MAX_TEXT_CHARS and out["n"] == 5
