"""EMF documents checked against the schema of AWS's published specification, and against
the rules of that specification a schema cannot express (target members)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import faasport.metrics as metrics

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "emf-schema.json").read_text())


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    metrics.configure(namespace="phoney", format="emf")
    metrics.flush()
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()]


def assert_valid_emf(document: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(document)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                assert isinstance(document[key], str), key
        for definition in directive["Metrics"]:
            value = document[definition["Name"]]
            values = value if isinstance(value, list) else [value]
            assert 1 <= len(values) <= 100
            assert all(type(v) in (int, float) for v in values)


def test_one_document_per_flush_with_units_and_dimensions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics.count("orders", plan="pro")
    metrics.count("orders", 2, plan="pro")
    metrics.timing("checkout", 12.5, plan="pro")
    metrics.timing("checkout", 7.25, plan="pro")
    metrics.gauge("basket", 3, plan="pro")
    (document,) = emitted(capsys)
    assert_valid_emf(document)
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "phoney"
    assert directive["Dimensions"] == [["plan"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "orders": "Count",
        "checkout": "Milliseconds",
        "basket": "None",
    }
    assert document["plan"] == "pro"
    assert document["orders"] == 3
    assert document["checkout"] == [12.5, 7.25]
    assert document["basket"] == 3


def test_each_set_of_dimension_values_has_its_own_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics.count("orders", plan="pro")
    metrics.count("orders", plan="free")
    metrics.count("signups")
    documents = emitted(capsys)
    for document in documents:
        assert_valid_emf(document)
    assert sorted((d.get("plan", ""), d.get("orders", d.get("signups"))) for d in documents) == [
        ("", 1),
        ("free", 1),
        ("pro", 1),
    ]
    without = next(d for d in documents if "signups" in d)
    assert without["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]


def test_more_than_100_metrics_are_split(capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(150):
        metrics.count(f"m{i}", i)
    documents = emitted(capsys)
    assert [len(d["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for d in documents] == [100, 50]
    for document in documents:
        assert_valid_emf(document)
    merged = {k: v for d in documents for k, v in d.items() if k != "_aws"}
    assert merged == {f"m{i}": i for i in range(150)}


def test_more_than_100_values_of_a_metric_are_split(capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(250):
        metrics.timing("query", float(i))
    metrics.count("queries", 250)
    documents = emitted(capsys)
    for document in documents:
        assert_valid_emf(document)
    assert [len(d["query"]) for d in documents] == [100, 100, 50]
    assert [v for d in documents for v in d["query"]] == [float(i) for i in range(250)]
    assert sum(d.get("queries", 0) for d in documents) == 250


def test_the_schema_rejects_what_the_specification_forbids() -> None:
    """The schema is not vacuous: a document over the limits fails it."""
    too_many = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {
                    "Namespace": "n",
                    "Dimensions": [[]],
                    "Metrics": [{"Name": f"m{i}"} for i in range(101)],
                }
            ],
        }
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(too_many)
    bad_unit = json.loads(json.dumps(too_many))
    bad_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"] = [{"Name": "m", "Unit": "ms"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(bad_unit)
