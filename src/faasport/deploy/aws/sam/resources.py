"""What the functions use in SAM: queues, topics, buckets, the state table, the alarm topic."""

from __future__ import annotations

from faasport.config.model import Project
from faasport.deploy.aws import model, naming
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.sam import cfn
from faasport.deploy.aws.yaml_text import Data

BUCKET_SKIPS = ("CKV_AWS_18",)


def resources(infrastructure: Infrastructure) -> cfn.Resources:
    project = infrastructure.project
    out: cfn.Resources = {}
    for queue in infrastructure.queues:
        cfn.add(out, {cfn.queue_id(queue.key): _queue(queue)})
        if queue.keeps_failures:
            alarm = cfn.alarm(
                f"{queue.name}-{model.DEPTH_ALARM.suffix}",
                "AWS/SQS",
                ("QueueName", queue.name),
                model.DEPTH_ALARM,
            )
            cfn.add(out, {naming.logical_id(f"{queue.key}-depth", "Alarm"): alarm})
    for topic in infrastructure.topics:
        cfn.add(out, {cfn.topic_id(topic): _topic(project, topic)})
    for bucket in infrastructure.notifications:
        cfn.add(out, _bucket(bucket))
    table = infrastructure.state_table
    if table:
        cfn.add(out, {cfn.STATE_TABLE: _table(table)})
    cfn.add(out, {cfn.ALARM_TOPIC: _alarm_topic(project)})
    return out


def outputs(infrastructure: Infrastructure) -> dict[str, Data]:
    return {
        "AlarmTopicArn": {
            "Description": "Subscribe to this topic to receive the functions' alarms",
            "Value": cfn.ref(cfn.ALARM_TOPIC),
        }
    }


def _queue(queue: model.QueueSpec) -> dict[str, Data]:
    properties: dict[str, Data] = {
        "QueueName": queue.name,
        "VisibilityTimeout": queue.visibility_timeout,
        "MessageRetentionPeriod": queue.retention,
        "SqsManagedSseEnabled": True,
    }
    if queue.dead_letter:
        properties["RedrivePolicy"] = {
            "deadLetterTargetArn": cfn.arn(cfn.queue_id(queue.dead_letter)),
            "maxReceiveCount": queue.max_receive,
        }
    return cfn.resource("AWS::SQS::Queue", properties, skip=("CKV_AWS_27",), on_delete="Delete")


def _topic(project: Project, topic: str) -> dict[str, Data]:
    return cfn.resource(
        "AWS::SNS::Topic",
        {"TopicName": naming.topic_name(project, topic), "KmsMasterKeyId": "alias/aws/sns"},
    )


def _alarm_topic(project: Project) -> dict[str, Data]:
    return cfn.resource(
        "AWS::SNS::Topic", {"TopicName": naming.alarm_topic(project)}, skip=("CKV_AWS_26",)
    )


def _bucket(bucket: str) -> cfn.Resources:
    bucket_id = cfn.bucket_id(bucket)
    properties: dict[str, Data] = {
        "BucketName": bucket,
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                    "BucketKeyEnabled": True,
                }
            ]
        },
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "VersioningConfiguration": {"Status": "Enabled"},
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "Id": "tidy",
                    "Status": "Enabled",
                    "AbortIncompleteMultipartUpload": {
                        "DaysAfterInitiation": model.BUCKET_UPLOAD_DAYS
                    },
                    "NoncurrentVersionExpiration": {"NoncurrentDays": model.BUCKET_NONCURRENT_DAYS},
                }
            ]
        },
    }
    deny_plain_http: dict[str, Data] = {
        "Bucket": cfn.ref(bucket_id),
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyPlainHttp",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [cfn.arn(bucket_id), cfn.sub(f"${{{bucket_id}.Arn}}/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
    }
    return {
        # Kept when the stack goes: it holds the users' objects (and CloudFormation cannot
        # delete a bucket that is not empty).
        bucket_id: cfn.resource(
            "AWS::S3::Bucket", properties, skip=BUCKET_SKIPS, on_delete="Retain"
        ),
        naming.logical_id(bucket, "BucketPolicy"): cfn.resource(
            "AWS::S3::BucketPolicy", deny_plain_http
        ),
    }


def _table(table: str) -> dict[str, Data]:
    return cfn.resource(
        "AWS::DynamoDB::Table",
        {
            "TableName": table,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": model.STATE_KEY, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": model.STATE_KEY, "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": model.STATE_TTL, "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
        skip=("CKV_AWS_119",),
        on_delete="Delete",
    )
