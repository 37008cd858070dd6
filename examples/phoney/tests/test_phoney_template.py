"""Templates filled in bulk: shapes, literals, arguments, determinism, and what is refused."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from random import Random
from typing import Any

import pytest
from phoney.formats import chunks
from phoney.generators import GENERATORS
from phoney.locale_data import UnknownLocaleError, locale_data
from phoney.template import BATCH, TemplateError, compile_template

EN = locale_data("en_US")


def fill(template: Any, count: int = 5, seed: int = 42, locale: str = "en_US") -> list[Any]:
    compiled = compile_template(template, locale_data(locale), max_fields=100)
    return [record for batch in compiled.records(Random(seed), count) for record in batch]


def test_nested_objects_and_lists_keep_their_shape() -> None:
    records = fill(
        {
            "user": {"name": "{{name}}", "address": {"city": "{{city}}", "zip": "{{postcode}}"}},
            "tags": ["{{word}}", "{{word}}", "fixed"],
            "active": True,
            "score": 1.5,
            "nothing": None,
            "empty": {},
        },
        count=20,
    )
    assert len(records) == 20
    for record in records:
        assert set(record) == {"user", "tags", "active", "score", "nothing", "empty"}
        assert isinstance(record["user"]["name"], str) and " " in record["user"]["name"]
        assert re.fullmatch(r"\d{5}(-\d{4})?", record["user"]["address"]["zip"])
        assert len(record["tags"]) == 3 and record["tags"][2] == "fixed"
        assert (record["active"], record["score"], record["nothing"]) == (True, 1.5, None)
        assert record["empty"] == {}
    # Drawn per record, not copied from the first one.
    assert len({r["user"]["name"] for r in records}) > 10


def test_values_come_from_fakers_locale_data() -> None:
    provider = EN.provider("person")
    for record in fill({"first": "{{first_name}}", "last": "{{last_name}}"}, count=200):
        assert record["first"] in provider.first_names
        assert record["last"] in provider.last_names
    german = locale_data("de_DE").provider("person")
    for record in fill({"last": "{{last_name}}"}, count=50, locale="de_DE"):
        assert record["last"] in german.last_names


def test_literal_text_around_placeholders() -> None:
    for record in fill({"line": "Dear {{first_name}} {{last_name}}, order #{{random_int:1,9}}!"}):
        found = re.fullmatch(r"Dear (\S+) (\S+), order #(\d)!", record["line"])
        assert found, record
        assert 1 <= int(found.group(3)) <= 9
    assert (
        fill({"plain": "no placeholder {here}"}, count=2)
        == [{"plain": "no placeholder {here}"}] * 2
    )


def test_generator_arguments() -> None:
    today = date.today()
    records = fill(
        {
            "day": "{{date_between:-30d,today}}",
            "fixed": "{{date_between:2024-02-01,2024-02-03}}",
            "n": "{{random_int:10,12}}",
            "price": "{{random_float:1,2,1}}",
            "color": "{{random_element:red, green}}",
            "code": "{{numerify:INV-####}}",
            "plate": "{{bothify:??-##}}",
            "flag": "{{boolean:100}}",
            "words": "{{sentence:3}}",
            "when": "{{date_time_between:2024-01-01,2024-01-01}}",
        },
        count=100,
    )
    for record in records:
        assert today - timedelta(days=30) <= date.fromisoformat(record["day"]) <= today
        assert record["fixed"] in {"2024-02-01", "2024-02-02", "2024-02-03"}
        assert record["n"] in {10, 11, 12}  # an integer, not text
        assert 1.0 <= record["price"] <= 2.0 and round(record["price"], 1) == record["price"]
        assert record["color"] in {"red", "green"}
        assert re.fullmatch(r"INV-\d{4}", record["code"])
        assert re.fullmatch(r"[A-Za-z]{2}-\d{2}", record["plate"])
        assert record["flag"] is True
        assert re.fullmatch(r"[A-Z][a-z]* [a-z]+ [a-z]+\.", record["words"])
        assert record["when"].startswith("2024-01-01T")
    assert len({r["n"] for r in records}) == 3


def test_a_seed_gives_the_same_records_and_another_seed_others() -> None:
    template = {"name": "{{name}}", "mail": "{{email}}", "when": "{{date_between:-1y,today}}"}
    count = BATCH * 2 + 7  # several batches
    assert fill(template, count, seed=7) == fill(template, count, seed=7)
    assert fill(template, count, seed=7) != fill(template, count, seed=8)


def test_the_formats_hold_the_same_records_for_a_seed() -> None:
    template = {"id": "{{random_int:1,1000}}", "user": {"name": "{{name}}", "tags": ["{{word}}"]}}
    compiled = compile_template(template, EN, max_fields=100)

    def body(fmt: str) -> str:
        return b"".join(chunks(fmt, compiled.records(Random(3), 1500), compiled.fields)).decode()

    records = json.loads(body("json"))
    assert len(records) == 1500
    assert [json.loads(line) for line in body("ndjson").splitlines()] == records
    rows = list(csv.reader(io.StringIO(body("csv"))))
    assert rows[0] == ["id", "user.name", "user.tags.0"]
    assert rows[1:] == [[str(r["id"]), r["user"]["name"], r["user"]["tags"][0]] for r in records]


def test_empty_counts_are_valid_documents() -> None:
    compiled = compile_template({"a": "{{word}}"}, EN, max_fields=10)
    for fmt, expected in [("json", b"[]"), ("ndjson", b""), ("csv", b"a\n")]:
        assert b"".join(chunks(fmt, compiled.records(Random(1), 0), compiled.fields)) == expected


def test_an_unknown_generator_is_named_with_the_nearest_names() -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template({"user": {"name": "Hi {{frist_name}}"}}, EN, max_fields=10)
    assert caught.value.detail == {
        "message": 'unknown generator "frist_name"',
        "generator": "frist_name",
        "path": "user.name",
        "suggestions": ["first_name", "last_name", "first_name_male"],
    }


@pytest.mark.parametrize(
    ("placeholder", "message"),
    [
        ("{{random_int:5,1}}", 'generator "random_int" min 5 is greater than max 1'),
        ("{{random_int:a,9}}", "generator \"random_int\" min must be an integer, got 'a'"),
        ("{{first_name:3}}", 'generator "first_name" takes no arguments'),
        (
            "{{date_between:yesterday,today}}",
            "generator \"date_between\" 'yesterday' is not a date",
        ),
        ("{{date_between:today,-1d}}", 'generator "date_between" start'),
        ("{{random_element}}", 'generator "random_element" needs the elements'),
        ("{{boolean:101}}", 'generator "boolean" the chance of true is a percentage'),
    ],
)
def test_bad_arguments_are_refused_before_generating(placeholder: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template({"x": placeholder}, EN, max_fields=10)
    assert caught.value.detail["message"].startswith(message), caught.value.detail
    assert caught.value.detail["path"] == "x"


def test_too_many_fields() -> None:
    with pytest.raises(TemplateError, match="more than 3 fields"):
        compile_template({"a": ["{{word}}"] * 4}, EN, max_fields=3)


def test_an_unknown_locale_gets_suggestions() -> None:
    with pytest.raises(UnknownLocaleError) as caught:
        locale_data("en-US")
    assert caught.value.suggestions[0] == "en_US"


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "ja_JP", "pt_BR", "zh_CN"])
def test_every_generator_fills_or_refuses_in_every_locale(locale: str) -> None:
    data = locale_data(locale)
    for name, generator in GENERATORS.items():
        try:
            template = compile_template({"v": generator.example}, data, max_fields=1)
        except TemplateError as exc:
            assert exc.detail["message"] == f'generator "{name}" has no data for locale {locale}'
            continue
        (batch,) = template.records(Random(5), 5)
        assert len(batch) == 5 and all(record["v"] not in ("", None) for record in batch), name


def test_a_locale_that_overrides_a_method_is_followed() -> None:
    # ja_JP's city() draws from its own list, not from the city_formats it inherits.
    cities = locale_data("ja_JP").provider("address").cities
    records = fill({"city": "{{city}}"}, count=50, locale="ja_JP")
    assert all(record["city"] in cities for record in records)
    assert fill({"city": "{{city}}"}, count=50, locale="ja_JP") == records  # seeded too
