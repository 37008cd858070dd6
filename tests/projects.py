"""The projects the deploy and package tests start from: the example project, a
configuration written into a folder, and a test project packaged and unpacked."""

from __future__ import annotations

import shutil
import textwrap
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from faasport.config import load_project
from faasport.deploy.package import Artifact, build

PHONEY = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "phoney"

#: Every configuration key AWS takes, with an HTTP API.
AWS_EVERY_KEY = """
name = "shop"
python = "3.12"
region = "eu-west-1"

[api]
type = "http"
throttle = { rate = 500, burst = 1000 }
cors.origins = ["https://shop.example.com"]
cors.methods = ["GET", "POST"]
cors.headers = ["authorization", "content-type"]
cors.max_age = 600

[functions.api]
app = "shop.main:app"
memory = 1024
timeout = 20
architecture = "arm64"
concurrency = 20
reserved_concurrency = 5
warm = 2
health = "/health"
routes = ["ANY /{proxy+}", "GET /items/{id}"]
auth = "users"
throttle = { rate = 200, burst = 400 }
environment = { LOG_LEVEL = "INFO", STAGE = "prod" }
secrets = ["shop/prod/jwt", "ssm:/shop/prod/db-url"]

[functions.public]
app = "shop.public:app"
routes = ["GET /status"]
snapstart = true
stream = true

[functions.worker]
handler = "shop.jobs:handle"
memory = 256
timeout = 60
events = [
  { queue = "jobs", batch = 50 },
  { schedule = "rate(5 minutes)" },
  { schedule = "cron(0 12 * * ? *)" },
  { bucket = "shop-uploads-example", on = "created", prefix = "in/", suffix = ".csv" },
  { bucket = "shop-uploads-example", on = "removed", prefix = "in/" },
  { topic = "alerts" },
  { bucket = "shop-archive-example", on = "created" },
]

[queues.jobs]
visibility_timeout = 120
max_receive = 5
dlq = "jobs-dlq"

[queues.audit]
dlq = false

[queues.mail]
visibility_timeout = 60

[auth.users]
issuer = "https://issuer.example.com/"
audience = ["shop-api"]
jwks = "https://issuer.example.com/.well-known/jwks.json"
identity = "$request.querystring.token"

[state]
url = "dynamodb://shop-state"
"""

#: A REST API project.
#: Every event source setting beyond the basics: FIFO and delayed queues, batching windows,
#: topic filters and queue subscriptions, Kinesis streams, bus rules, on-failure destinations.
AWS_EVENTS = """
name = "flow"

[functions.orders]
handler = "flow.orders:handle"
on_failure = "notes"
events = [
  { queue = "tasks.fifo", batch = 5 },
  { queue = "later", batch = 20, window = 5 },
  { topic = "orders", filter = { kind = ["refund"], total = [{ numeric = [">=", 100] }] } },
  { stream = "clicks", start = "TRIM_HORIZON", bisect = true, retries = 3, on_failure = "notes" },
  { bus = "default", pattern = { source = ["app.orders"], detail = { status = ["paid"] } } },
  { bus = "shop", pattern = { source = ["app.shop"] } },
]

[functions.audit]
handler = "flow.audit:handle"
on_failure = "orders"
events = [
  { stream = "clicks", batch = 10 },
  { bus = "default", pattern = { detail-type = ["audit"] } },
  { table = "ledger", batch = 50, start = "TRIM_HORIZON", retries = 2 },
]

[tables.ledger]
key = "account"
sort_key = "at"
sort_type = "N"
stream = "NEW_IMAGE"

[queues."tasks.fifo"]
content_dedup = true

[queues.later]
delay = 30

[queues.notes]
dlq = false

[queues.refunds]

[topics.orders]
queues = [{ queue = "refunds", raw = true, filter = { kind = ["refund"] } }]
"""

AWS_REST = """
name = "legacy"

[api]
type = "rest"

[functions.api]
app = "legacy.main:app"
routes = ["ANY /{proxy+}", "GET /items/{id}"]
throttle = { rate = 50, burst = 100 }
warm = 1
stream = true
"""

#: Every configuration key Google Cloud and Azure both take (Azure instances have at most
#: 4096 MB).
GCP_AZURE_EVERY_KEY = """
name = "Shop-API"
python = "3.13"
region = "eu-west-1"

[functions.api]
app = "shop.main:app"
memory = 1536
timeout = 60
architecture = "arm64"
concurrency = 20
warm = 2
health = "/health"
routes = ["ANY /{proxy+}"]
auth = "users"
throttle = { rate = 100, burst = 200 }
environment = { LOG_LEVEL = "DEBUG", FEATURE = "on" }
secrets = ["shop/prod/jwt", "ssm:/shop/prod/db"]

[functions.admin]
app = "shop.admin:app"
memory = 3072
routes = ["ANY /admin/{proxy+}"]
warm = 1
secrets = ["shop/prod/db-url"]

[functions.worker]
handler = "shop.jobs:handle"
memory = 256
timeout = 120
concurrency = 5
warm = 1
secrets = ["shop/prod/jwt"]
events = [
  { queue = "jobs", batch = 5 },
  { schedule = "rate(5 minutes)" },
  { schedule = "cron(0 12 ? * MON-FRI *)" },
  { bucket = "shop-uploads", on = "created", prefix = "in/", suffix = ".csv" },
  { bucket = "shop-uploads", on = "removed", prefix = "in/" },
  { topic = "alerts" },
]

[functions.mailer]
handler = "shop.mail:send"
events = [{ queue = "mail" }, { topic = "alerts" }]

[queues.jobs]
visibility_timeout = 180
max_receive = 12
dlq = "jobs-dlq"

[queues.mail]
visibility_timeout = 60
max_receive = 3
dlq = false

[queues.audit]

[auth.users]
issuer = "https://issuer.example.com/"
audience = ["shop"]
jwks = "https://issuer.example.com/.well-known/jwks.json"

[state]
url = "sqlite:///.faasport/state.db"
"""


def write_project(directory: Path, config: str) -> Path:
    """``directory`` holding ``config`` (dedented) as its faasport.toml."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "faasport.toml").write_text(textwrap.dedent(config))
    return directory


def project_dir(name: str, configs: Mapping[str, str], tmp: Path) -> Path:
    """The example project for ``"phoney"``; else ``configs[name]`` written in ``tmp/name``."""
    if name == "phoney":
        return PHONEY
    return write_project(tmp / name, configs[name])


def unpacked_bundle(
    source: Path, target: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Artifact, Path]:
    """A copy of the project ``source`` packaged for ``target``, and where its zip is unpacked."""
    root = Path(shutil.copytree(source, tmp_path_factory.mktemp("shop") / "shop"))
    artifact = build(load_project(root), target)
    unpacked = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(artifact.path) as opened:
        opened.extractall(unpacked)
    return artifact, unpacked
