"""The generators a template names: ``{{first_name}}``, ``{{date_between:-30d,today}}``...

Each one binds its arguments once per request (a bad argument is an error before anything is
generated) and returns a column function drawing its values in bulk from Faker's locale data.
A name inside one of Faker's own formats that has no bulk version here (``{{prefix_male}}``,
which 1.5% of ``name`` values use) is filled by Faker itself, seeded from the same ``Random``.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from random import Random
from typing import Any

from phoney import bulk
from phoney.bulk import Column
from phoney.locale_data import Elements, LocaleData


class ArgumentError(ValueError):
    """An argument a generator cannot take; the message says which and what it expects."""


class _MissingData(LookupError):
    """The locale's providers lack the list a bulk generator draws from."""


Bind = Callable[[LocaleData, tuple[str, ...]], Column]


@dataclass(frozen=True)
class Generator:
    name: str
    description: str
    example: str
    bind: Bind
    #: (provider, attribute) of a generator that is one choice from a provider's list.
    simple: tuple[str, str] | None = None


def _resolver(data: LocaleData) -> Callable[[str], Column]:
    def resolve(name: str) -> Column:
        generator = GENERATORS.get(name)
        if generator is not None:
            return generator.bind(data, ())
        return _faker_column(data, name)

    return resolve


def _faker_column(data: LocaleData, name: str) -> Column:
    def column(rng: Random, n: int) -> list[Any]:
        data.faker.seed_instance(rng.getrandbits(64))
        method = getattr(data.faker, name)
        return [str(method()) for _ in range(n)]

    return column


def _no_args(make: Callable[[LocaleData], Column]) -> Bind:
    def bind(data: LocaleData, args: tuple[str, ...]) -> Column:
        if args:
            raise ArgumentError("takes no arguments")
        return make(data)

    return bind


def _choice(kind: str, attribute: str) -> Bind:
    def make(data: LocaleData) -> Column:
        if not data.has(kind, attribute):
            raise _MissingData
        return bulk.choice(data.elements(kind, attribute))

    bind = _no_args(make)
    bind.simple = bind.source = (kind, attribute)  # type: ignore[attr-defined]
    return bind


def _formats(kind: str, attribute: str, *, numerify: bool = False) -> Bind:
    def make(data: LocaleData) -> Column:
        if not data.has(kind, attribute):
            raise _MissingData
        elements = data.elements(kind, attribute)
        return bulk.formats(elements, _resolver(data), numerify=numerify)

    bind = _no_args(make)
    bind.source = (kind, attribute)  # type: ignore[attr-defined]
    return bind


def _ascii(text: str, data: LocaleData) -> str:
    return text if text.isascii() else str(data.provider("internet")._to_ascii(text))


def _user_name(data: LocaleData) -> Column:
    """Faker's ``user_name``: its formats, lower-cased ASCII. The names it is made of are
    lower-cased once in their lists rather than once per value."""
    resolve = _resolver(data)

    def lowered(name: str) -> Column:
        generator = GENERATORS.get(name)
        if generator is not None and generator.simple is not None:
            elements = data.elements(*generator.simple)
            values = tuple(_ascii(str(value).lower(), data) for value in elements.values)
            return bulk.choice(Elements(values, elements.cum_weights))
        return bulk.mapped(resolve(name), lambda text: _ascii(text.lower(), data))

    if not data.has("internet", "user_name_formats"):
        raise _MissingData
    return bulk.formats(
        data.elements("internet", "user_name_formats"),
        lowered,
        numerify=True,
        letters=string.ascii_lowercase,
    )


def _email(data: LocaleData) -> Column:
    domains = bulk.choice(data.elements("internet", "safe_domain_names"))
    return bulk.join([_user_name(data), "@", domains])


def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ArgumentError(f"{what} must be an integer, got {text!r}") from None


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ArgumentError(f"{what} must be a number, got {text!r}") from None


def _arity(args: tuple[str, ...], most: int, usage: str) -> None:
    if len(args) > most:
        raise ArgumentError(f"takes at most {most} arguments ({usage}), got {len(args)}")


def _random_int(data: LocaleData, args: tuple[str, ...]) -> Column:
    _arity(args, 2, "min,max")
    low = _integer(args[0], "min") if args else 0
    high = _integer(args[1], "max") if len(args) > 1 else 9999
    if low > high:
        raise ArgumentError(f"min {low} is greater than max {high}")
    values = range(low, high + 1)
    return lambda rng, n: rng.choices(values, k=n)


def _random_float(data: LocaleData, args: tuple[str, ...]) -> Column:
    _arity(args, 3, "min,max,places")
    low = _number(args[0], "min") if args else 0.0
    high = _number(args[1], "max") if len(args) > 1 else 1.0
    places = _integer(args[2], "places") if len(args) > 2 else 2
    if low > high:
        raise ArgumentError(f"min {low} is greater than max {high}")
    if not 0 <= places <= 10:
        raise ArgumentError(f"places must be 0 to 10, got {places}")
    span = high - low
    return lambda rng, n: [round(low + span * rng.random(), places) for _ in range(n)]


def _boolean(data: LocaleData, args: tuple[str, ...]) -> Column:
    _arity(args, 1, "chance of true, in percent")
    chance = _integer(args[0], "the chance of true") if args else 50
    if not 0 <= chance <= 100:
        raise ArgumentError(f"the chance of true is a percentage, 0 to 100, got {chance}")
    weights = (chance, 100)
    return lambda rng, n: rng.choices((True, False), cum_weights=weights, k=n)


def _random_element(data: LocaleData, args: tuple[str, ...]) -> Column:
    if not args:
        raise ArgumentError("needs the elements to choose from, like {{random_element:a,b,c}}")
    return bulk.choice(Elements(args))


def _uuid4(data: LocaleData) -> Column:
    return lambda rng, n: [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]


def _pattern(letters: bool) -> Bind:
    def bind(data: LocaleData, args: tuple[str, ...]) -> Column:
        if len(args) != 1 or not args[0]:
            raise ArgumentError("needs one pattern, like {{numerify:###-####}}")
        text = args[0] if letters else args[0].replace("?", "\0")
        column = bulk.pattern(text, _resolver(data), numerify=True)
        return column if letters else bulk.mapped(column, lambda value: value.replace("\0", "?"))

    return bind


def _date(data: LocaleData, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        parsed = data.provider("date_time")._parse_date(text)
    except Exception:
        raise ArgumentError(
            f'{text!r} is not a date: use "today", an offset like "-30d", "+1y", "-2w", '
            'or "2024-01-31"'
        ) from None
    return parsed if isinstance(parsed, date) else date.today()


def _date_range(data: LocaleData, args: tuple[str, ...], default_start: str) -> tuple[date, date]:
    _arity(args, 2, "start,end")
    start = _date(data, args[0] if args else default_start)
    end = _date(data, args[1] if len(args) > 1 else "today")
    if start > end:
        raise ArgumentError(f"start {start} is after end {end}")
    return start, end


def _date_between(data: LocaleData, args: tuple[str, ...]) -> Column:
    start, end = _date_range(data, args, "-30y")
    days = end.toordinal() - start.toordinal()
    if days <= 200_000:
        population = tuple(
            date.fromordinal(start.toordinal() + day).isoformat() for day in range(days + 1)
        )
        return lambda rng, n: rng.choices(population, k=n)
    ordinals = range(start.toordinal(), end.toordinal() + 1)
    return lambda rng, n: [date.fromordinal(o).isoformat() for o in rng.choices(ordinals, k=n)]


def _date_time_between(data: LocaleData, args: tuple[str, ...]) -> Column:
    start, end = _date_range(data, args, "-30y")
    origin = datetime(start.year, start.month, start.day)
    seconds = range(((end - start) + timedelta(days=1)).days * 86400)

    def column(rng: Random, n: int) -> list[Any]:
        return [(origin + timedelta(seconds=s)).isoformat() for s in rng.choices(seconds, k=n)]

    return column


def _sentence(data: LocaleData, args: tuple[str, ...]) -> Column:
    _arity(args, 1, "number of words")
    words = _integer(args[0], "the number of words") if args else 6
    if not 1 <= words <= 100:
        raise ArgumentError(f"the number of words must be 1 to 100, got {words}")
    word_list = data.elements("lorem", "word_list").values

    def column(rng: Random, n: int) -> list[Any]:
        drawn = rng.choices(word_list, k=n * words)
        return [
            " ".join(drawn[i : i + words]).capitalize() + "." for i in range(0, n * words, words)
        ]

    return column


def _generator(name: str, description: str, bind: Bind, example: str = "") -> Generator:
    source: tuple[str, str] | None = getattr(bind, "source", None)

    def bound(data: LocaleData, args: tuple[str, ...]) -> Column:
        try:
            if source is not None and data.overrides(source[0], name, source[1]):
                raise _MissingData
            return bind(data, args)
        except _MissingData:
            # This locale keeps the values elsewhere, or computes them: Faker per value.
            if not callable(getattr(data.faker, name, None)):
                raise ArgumentError(f"has no data for locale {data.locale}") from None
            return _faker_column(data, name)

    simple = getattr(bind, "simple", None)
    return Generator(name, description, example or "{{" + name + "}}", bound, simple)


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in [
        _generator("first_name", "a first name", _choice("person", "first_names")),
        _generator("first_name_male", "a male first name", _choice("person", "first_names_male")),
        _generator(
            "first_name_female", "a female first name", _choice("person", "first_names_female")
        ),
        _generator("last_name", "a last name", _choice("person", "last_names")),
        _generator("name", "a full name, as Faker's name formats", _formats("person", "formats")),
        _generator("user_name", "a user name", _no_args(_user_name)),
        _generator("email", "an email address at a reserved example domain", _no_args(_email)),
        _generator(
            "free_email_domain", "a free email domain", _choice("internet", "free_email_domains")
        ),
        _generator("city", "a city name", _formats("address", "city_formats")),
        _generator("city_prefix", "a city name's prefix", _choice("address", "city_prefixes")),
        _generator("city_suffix", "a city name's suffix", _choice("address", "city_suffixes")),
        _generator("street_suffix", "a street suffix", _choice("address", "street_suffixes")),
        _generator(
            "secondary_address",
            "an apartment or suite",
            _formats("address", "secondary_address_formats", numerify=True),
        ),
        _generator("street_name", "a street name", _formats("address", "street_name_formats")),
        _generator(
            "street_address", "a street address", _formats("address", "street_address_formats")
        ),
        _generator(
            "building_number",
            "a building number",
            _formats("address", "building_number_formats", numerify=True),
        ),
        _generator(
            "postcode", "a postal code", _formats("address", "postcode_formats", numerify=True)
        ),
        _generator("state", "a state or region", _choice("address", "states")),
        _generator("state_abbr", "a state's abbreviation", _choice("address", "states_abbr")),
        _generator("country", "a country name", _choice("address", "countries")),
        _generator(
            "phone_number",
            "a phone number",
            _formats("phone_number", "formats", numerify=True),
        ),
        _generator("company", "a company name", _formats("company", "formats")),
        _generator("company_suffix", "a company suffix", _choice("company", "company_suffixes")),
        _generator("job", "a job title", _choice("job", "jobs")),
        _generator("word", "a lorem ipsum word", _choice("lorem", "word_list")),
        _generator("sentence", "N lorem ipsum words (6)", _sentence, "{{sentence:8}}"),
        _generator("uuid4", "a random UUID", _no_args(_uuid4)),
        _generator(
            "random_int",
            "an integer from min to max (0, 9999)",
            _random_int,
            "{{random_int:1,100}}",
        ),
        _generator(
            "random_float",
            "a number from min to max (0, 1) with places decimals (2)",
            _random_float,
            "{{random_float:0,500,2}}",
        ),
        _generator("boolean", "true with a chance in percent (50)", _boolean, "{{boolean:75}}"),
        _generator(
            "random_element",
            "one of the arguments",
            _random_element,
            "{{random_element:red,green,blue}}",
        ),
        _generator(
            "numerify",
            "the pattern with # as a digit, % as 1-9",
            _pattern(letters=False),
            "{{numerify:INV-#####}}",
        ),
        _generator(
            "bothify",
            "the pattern with # as a digit, ? as a letter",
            _pattern(letters=True),
            "{{bothify:??-####}}",
        ),
        _generator(
            "date_between",
            'a date from start to end ("-30y", "today"; offsets like -30d, +1y or ISO dates)',
            _date_between,
            "{{date_between:-30d,today}}",
        ),
        _generator(
            "date_time_between",
            "a date and time from start to end, to the second",
            _date_time_between,
            "{{date_time_between:-1w,today}}",
        ),
    ]
}
