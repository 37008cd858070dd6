"""``modules/queue``, ``modules/topic``, ``modules/bucket`` and ``modules/table``: what the
functions read from and are triggered by."""

from __future__ import annotations

from faasport.deploy.aws import model
from faasport.deploy.aws.terraform.tf import Module, jsonencode, output, resource, variable
from faasport.deploy.hcl import Block, Ref, template

_REDRIVE = (
    "var.dead_letter_arn == null ? null : jsonencode({ deadLetterTargetArn = "
    "var.dead_letter_arn, maxReceiveCount = var.max_receive_count })"
)

QUEUE = Module(
    name="queue",
    variables=(
        variable("name", "string", "The queue name"),
        variable("visibility_timeout", "number", "Seconds a received message stays hidden"),
        variable("retention_seconds", "number", "Seconds a message is kept"),
        variable("dead_letter_arn", "string", "Queue for messages received too often, or null"),
        variable("max_receive_count", "number", "Receives before a message moves to it"),
        variable("depth_alarm", "bool", "Whether a message waiting here raises an alarm"),
        variable("alarm_topic_arn", "string", "Topic the alarm notifies"),
        variable("fifo", "bool", "A FIFO queue (its name ends in .fifo)"),
        variable("content_dedup", "bool", "FIFO: deduplicate messages by their body"),
        variable("delay", "number", "Seconds every message waits before its first delivery"),
    ),
    main=(
        resource(
            "aws_sqs_queue",
            "this",
            {
                "name": Ref("var.name"),
                "visibility_timeout_seconds": Ref("var.visibility_timeout"),
                "message_retention_seconds": Ref("var.retention_seconds"),
                "sqs_managed_sse_enabled": True,
                "redrive_policy": Ref(_REDRIVE),
                "fifo_queue": Ref("var.fifo"),
                # Only FIFO queues take the setting at all.
                "content_based_deduplication": Ref("var.fifo ? var.content_dedup : null"),
                "delay_seconds": Ref("var.delay"),
            },
        ),
        resource(
            "aws_cloudwatch_metric_alarm",
            "depth",
            {
                "count": Ref("var.depth_alarm ? 1 : 0"),
                "alarm_name": template(Ref("var.name"), f"-{model.DEPTH_ALARM.suffix}"),
                "namespace": "AWS/SQS",
                "metric_name": model.DEPTH_ALARM.metric,
                "dimensions": {"QueueName": Ref("aws_sqs_queue.this.name")},
                "statistic": model.DEPTH_ALARM.statistic,
                "period": model.ALARM_PERIOD,
                "evaluation_periods": 1,
                "threshold": model.DEPTH_ALARM.threshold,
                "comparison_operator": "GreaterThanOrEqualToThreshold",
                "treat_missing_data": "notBreaching",
                "alarm_actions": [Ref("var.alarm_topic_arn")],
            },
        ),
    ),
    outputs=(
        output("arn", Ref("aws_sqs_queue.this.arn"), "The queue's ARN"),
        output("url", Ref("aws_sqs_queue.this.url"), "The queue's URL"),
    ),
)

TOPIC = Module(
    name="topic",
    variables=(variable("name", "string", "The topic name"),),
    main=(
        resource(
            "aws_sns_topic",
            "this",
            {"name": Ref("var.name"), "kms_master_key_id": "alias/aws/sns"},
        ),
    ),
    outputs=(output("arn", Ref("aws_sns_topic.this.arn"), "The topic's ARN"),),
)

TABLE = Module(
    name="table",
    variables=(
        variable("name", "string", "The table name"),
        variable("hash_key", "string", "The string partition key"),
        variable("ttl_attribute", "string", "The attribute holding the expiry (epoch seconds)"),
    ),
    main=(
        resource(
            "aws_dynamodb_table",
            "this",
            {
                "name": Ref("var.name"),
                "billing_mode": "PAY_PER_REQUEST",
                "hash_key": Ref("var.hash_key"),
                "attribute": Block("attribute", (), {"name": Ref("var.hash_key"), "type": "S"}),
                "ttl": Block(
                    "ttl", (), {"attribute_name": Ref("var.ttl_attribute"), "enabled": True}
                ),
                "point_in_time_recovery": Block("point_in_time_recovery", (), {"enabled": True}),
                "server_side_encryption": Block("server_side_encryption", (), {"enabled": True}),
            },
            skip=("CKV_AWS_119",),
        ),
    ),
    outputs=(output("arn", Ref("aws_dynamodb_table.this.arn"), "The table's ARN"),),
)


def _bucket_settings() -> tuple[Block, ...]:
    bucket = Ref("aws_s3_bucket.this.id")
    encryption = Block(
        "rule",
        (),
        {
            "bucket_key_enabled": True,
            "apply_server_side_encryption_by_default": Block(
                "apply_server_side_encryption_by_default", (), {"sse_algorithm": "aws:kms"}
            ),
        },
    )
    lifecycle = Block(
        "rule",
        (),
        {
            "id": "tidy",
            "status": "Enabled",
            "filter": Block("filter", ()),
            "abort_incomplete_multipart_upload": Block(
                "abort_incomplete_multipart_upload",
                (),
                {"days_after_initiation": model.BUCKET_UPLOAD_DAYS},
            ),
            "noncurrent_version_expiration": Block(
                "noncurrent_version_expiration",
                (),
                {"noncurrent_days": model.BUCKET_NONCURRENT_DAYS},
            ),
        },
    )
    deny_plain_http = jsonencode(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyPlainHttp",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [
                        Ref("aws_s3_bucket.this.arn"),
                        template(Ref("aws_s3_bucket.this.arn"), "/*"),
                    ],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )
    return (
        resource(
            "aws_s3_bucket_server_side_encryption_configuration",
            "this",
            {"bucket": bucket, "rule": encryption},
        ),
        resource(
            "aws_s3_bucket_versioning",
            "this",
            {
                "bucket": bucket,
                "versioning_configuration": Block(
                    "versioning_configuration", (), {"status": "Enabled"}
                ),
            },
        ),
        resource(
            "aws_s3_bucket_public_access_block",
            "this",
            {
                "bucket": bucket,
                "block_public_acls": True,
                "block_public_policy": True,
                "ignore_public_acls": True,
                "restrict_public_buckets": True,
            },
        ),
        resource(
            "aws_s3_bucket_ownership_controls",
            "this",
            {
                "bucket": bucket,
                "rule": Block("rule", (), {"object_ownership": "BucketOwnerEnforced"}),
            },
        ),
        resource(
            "aws_s3_bucket_lifecycle_configuration",
            "this",
            {
                "bucket": bucket,
                "depends_on": [Ref("aws_s3_bucket_versioning.this")],
                "rule": lifecycle,
            },
        ),
        resource("aws_s3_bucket_policy", "this", {"bucket": bucket, "policy": deny_plain_http}),
    )


def _bucket_notifications() -> tuple[Block, ...]:
    permission = resource(
        "aws_lambda_permission",
        "notification",
        {
            "for_each": Ref("{ for n in var.notifications : n.id => n }"),
            "statement_id": Ref("each.key"),
            "action": "lambda:InvokeFunction",
            "function_name": Ref("each.value.function_name"),
            "qualifier": Ref("each.value.qualifier"),
            "principal": "s3.amazonaws.com",
            "source_arn": Ref("aws_s3_bucket.this.arn"),
            "source_account": Ref("data.aws_caller_identity.current.account_id"),
        },
    )
    function = Block(
        "dynamic",
        ("lambda_function",),
        {
            "for_each": Ref("var.notifications"),
            "content": Block(
                "content",
                (),
                {
                    "lambda_function_arn": Ref("lambda_function.value.target_arn"),
                    "events": Ref("lambda_function.value.events"),
                    "filter_prefix": Ref(
                        'lambda_function.value.prefix == "" ? null : lambda_function.value.prefix'
                    ),
                    "filter_suffix": Ref(
                        'lambda_function.value.suffix == "" ? null : lambda_function.value.suffix'
                    ),
                },
            ),
        },
    )
    notification = resource(
        "aws_s3_bucket_notification",
        "this",
        {
            "bucket": Ref("aws_s3_bucket.this.id"),
            "depends_on": [Ref("aws_lambda_permission.notification")],
            "lambda_function": function,
        },
    )
    return (Block("data", ("aws_caller_identity", "current")), permission, notification)


_NOTIFICATION = (
    "list(object({ id = string, function_name = string, qualifier = string, "
    "target_arn = string, events = list(string), prefix = string, suffix = string }))"
)

BUCKET = Module(
    name="bucket",
    variables=(
        variable("name", "string", "The bucket name"),
        variable("notifications", _NOTIFICATION, "Functions invoked on object events"),
    ),
    main=(
        resource(
            "aws_s3_bucket", "this", {"bucket": Ref("var.name")}, skip=("CKV_AWS_18", "CKV_AWS_144")
        ),
        *_bucket_settings(),
        *_bucket_notifications(),
    ),
    outputs=(output("arn", Ref("aws_s3_bucket.this.arn"), "The bucket's ARN"),),
)
