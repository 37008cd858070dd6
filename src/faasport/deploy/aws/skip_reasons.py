"""Why the security checks that the generated infrastructure skips do not apply to it. The SAM
template (resource ``Metadata``) and the Terraform (``#checkov:skip`` comments) both take
their reasons from here."""

from __future__ import annotations

REASONS = {
    "CKV_AWS_117": "the function reaches only AWS APIs, no resources inside a VPC",
    "CKV_AWS_116": "invoked synchronously (API Gateway) or by SQS, whose redrive policy keeps "
    "failed messages; asynchronous functions get a dead-letter queue",
    "CKV_AWS_115": "reserved concurrency is taken from the account's unreserved pool and fails "
    "the stack where quotas are low; set reserved_concurrency in the configuration to reserve",
    "CKV_AWS_173": "environment holds configuration only; secrets are read at run time from "
    "Secrets Manager or SSM, and Lambda encrypts the rest with its service key",
    "CKV_AWS_272": "the artifact is built by faasport package; code signing needs a signing "
    "profile that the project does not configure",
    "CKV_AWS_158": "CloudWatch Logs encrypts log data with its service key; a customer key "
    "would add a key policy to manage for operational logs",
    "CKV_AWS_338": "operational logs are kept 30 days to bound storage cost",
    "CKV_AWS_26": "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed "
    "key; alarm notifications carry no application data",
    "CKV_AWS_18": "an access log bucket would need its own bucket; S3 events and CloudTrail "
    "data events cover auditing",
    "CKV_AWS_144": "cross-region replication needs a second bucket and region the project does "
    "not configure",
    "CKV_AWS_119": "encrypted at rest with the AWS managed DynamoDB key; a customer managed "
    "key would add a key policy to manage, which the configuration does not ask for",
    "CKV_AWS_27": "encrypted with SSE-SQS (SqsManagedSseEnabled), which this CloudFormation "
    "check does not recognise; it accepts only a KMS key",
    "CKV_AWS_120": "responses are per request and per user; a stage cache would serve stale "
    "or foreign answers",
    "CKV_AWS_309": 'only routes of functions configured with auth = "none", [proxy] '
    "routes (their upstream authenticates) and WebSocket routes (the function checks the "
    "$connect request) are here: public on purpose; the others are JWT routes",
    "CKV_AWS_225": "responses are per request and per user; a method cache would serve stale "
    "or foreign answers",
    "CKV2_AWS_29": "a WAF web ACL is a paid add-on whose rules depend on the application; "
    "stage throttling limits abuse",
    "CKV2_AWS_4": "execution logging needs the account-wide API Gateway CloudWatch role, "
    "which one project's stack must not own; X-Ray and metrics stay on",
    "CKV2_AWS_51": "client certificates authenticate API Gateway to an HTTP backend; this "
    "API's backend is Lambda",
    "CKV_AWS_76": "REST API access logs need the account-wide API Gateway CloudWatch role, "
    "which one project's stack must not own; execution metrics and X-Ray stay on",
}
