"""EMF lines are shown by faasport dev in a few words; other lines pass unchanged."""

from __future__ import annotations

import json

from faasport.local.metric_lines import readable
from faasport.metrics.emf import lines


def test_an_emf_document_in_a_few_words() -> None:
    pending = {
        (("queue", "jobs"),): {"jobs": ("count", [10]), "parse": ("timing", [12.5, 3.0])},
        (): {"signups": ("count", [1])},
    }
    first, second = lines(pending, "phoney-api", 1)
    assert readable(first) == (
        "metrics phoney-api: jobs=10 Count, parse=12.5,3 Milliseconds [queue=jobs]"
    )
    assert readable(second) == "metrics phoney-api: signups=1 Count"


def test_other_lines_pass_unchanged() -> None:
    for line in (
        "START RequestId: 1 Version: $LATEST",
        json.dumps({"level": "INFO", "message": "hi"}),
        '{"_aws": not json',
        '{"_aws":{"CloudWatchMetrics":[]}}',
    ):
        assert readable(line) == line
