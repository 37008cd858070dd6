"""Event patterns against the examples of AWS's EventBridge documentation ("Creating event
patterns" and "Content filtering in Amazon EventBridge event patterns")."""

from __future__ import annotations

from typing import Any

import pytest

from faasport.local.sources.patterns import PatternError, matches

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "c-count": 5,
        "d-count": 7,
        "x-limit": 301.8,
        "sourceIPAddress": "10.0.0.255",
        "FileName": "image.png",
        "FilePath": "/usr/lib/data",
        "responseElements": None,
        "eventVersion": "",
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.ec2"]}, True),
        (
            {
                "source": ["aws.s3", "aws.ec2"],
                "detail-type": ["EC2 Instance State-change Notification"],
            },
            True,
        ),
        ({"source": ["aws.s3"]}, False),
        ({"detail": {"state": ["terminated"]}}, True),
        ({"detail": {"state": ["running"]}}, False),
        # Arrays: any element matching is enough.
        (
            {"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0", "x"]},
            True,
        ),
        # Prefix, and prefix ignoring case.
        ({"time": [{"prefix": "2017-12-22"}]}, True),
        ({"time": [{"prefix": "2017-10-02"}]}, False),
        ({"source": [{"prefix": {"equals-ignore-case": "AWS."}}]}, True),
        # Suffix, and suffix ignoring case.
        ({"detail": {"FileName": [{"suffix": ".png"}]}}, True),
        ({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".PNG"}}]}}, True),
        ({"detail": {"FileName": [{"suffix": ".txt"}]}}, False),
        # Anything-but: a value, a list, a prefix, a suffix, a wildcard.
        ({"detail": {"state": [{"anything-but": "initializing"}]}}, True),
        ({"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}}, False),
        ({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, True),
        ({"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}, False),
        ({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}, False),
        # Numeric ranges.
        (
            {
                "detail": {
                    "c-count": [{"numeric": [">", 0, "<=", 5]}],
                    "d-count": [{"numeric": ["<", 10]}],
                    "x-limit": [{"numeric": ["=", 3.018e2]}],
                }
            },
            True,
        ),
        ({"detail": {"c-count": [{"numeric": [">", 5]}]}}, False),
        ({"detail": {"state": [{"numeric": [">", 0]}]}}, False),
        # IP addresses.
        ({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}, True),
        ({"detail": {"sourceIPAddress": [{"cidr": "10.0.1.0/24"}]}}, False),
        # Exists.
        ({"detail": {"state": [{"exists": True}]}}, True),
        ({"detail": {"b-count": [{"exists": False}]}}, True),
        ({"detail": {"state": [{"exists": False}]}}, False),
        ({"detail": {"b-count": ["x"]}}, False),
        # Equals-ignore-case.
        ({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}, True),
        # Wildcards.
        ({"resources": [{"wildcard": "arn:aws:ec2:*:instance/*"}]}, True),
        ({"detail": {"FilePath": [{"wildcard": "/usr/*/data"}]}}, True),
        ({"detail": {"FilePath": [{"wildcard": "/usr/*/other"}]}}, False),
        # $or, at the top and inside a field.
        (
            {
                "detail": {
                    "$or": [
                        {"c-count": [{"numeric": [">", 5]}]},
                        {"d-count": [{"numeric": ["<", 10]}]},
                    ]
                }
            },
            True,
        ),
        (
            {"source": ["aws.ec2"], "$or": [{"detail-type": ["x"]}, {"detail": {"state": ["y"]}}]},
            False,
        ),
        # Null and empty values.
        ({"detail": {"responseElements": [None]}}, True),
        ({"detail": {"eventVersion": [""]}}, True),
        ({"detail": {"eventVersion": [None]}}, False),
    ],
)
def test_documented_patterns(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"source": "aws.ec2"}, "a pattern field is an object or a list of matchers"),
        ({"source": [{"prefix": 1}]}, "prefix takes a string"),
        ({"source": [{"numeric": [">"]}]}, "numeric takes"),
        ({"source": [{"nope": "x"}]}, "unknown matcher 'nope'"),
        ({"$or": []}, "non-empty list"),
        ({"source": [{"exists": "yes"}]}, "exists takes true or false"),
    ],
)
def test_bad_patterns_say_where(pattern: dict[str, Any], message: str) -> None:
    with pytest.raises(PatternError, match=message):
        matches(pattern, EVENT)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"detail": {"n": [{"numeric": [">", "x"]}]}}, "detail.n"),
        ({"source": [{"prefix": ["a"]}]}, "prefix takes a string"),
        ({"$or": [{"a": ["x"]}, {"b": [{"cidr": "nope"}]}]}, "cidr takes a network"),
        ({"a": {}}, "a: must be a non-empty object"),
        ({"a": [{"exists": 1}]}, "exists takes true or false"),
    ],
)
def test_check_finds_mistakes_without_an_event(pattern: dict[str, Any], message: str) -> None:
    from faasport.local.sources.patterns import check

    with pytest.raises(PatternError, match=message):
        check(pattern)


def test_check_accepts_every_documented_pattern() -> None:
    from faasport.local.sources.patterns import check

    check({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "x": [{"anything-but": ["a"]}]}})
    check({"source": [{"prefix": {"equals-ignore-case": "AWS."}}], "r": [{"wildcard": "a*"}]})
