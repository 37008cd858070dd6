"""What the functions use in SAM: queues, topics, buckets, the state table, the alarm topic."""

from __future__ import annotations

from faasport.config.model import DynamoTable, Project, TopicQueue
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
    for index, (topic, subscription) in enumerate(model.subscriptions(project)):
        cfn.add(
            out,
            {
                naming.logical_id(f"{topic}-{index}", "Subscription"): _subscription(
                    topic, subscription
                )
            },
        )
    for queue_key, topics in model.subscribed_queues(project).items():
        cfn.add(
            out, {naming.logical_id(queue_key, "QueuePolicy"): _queue_policy(queue_key, topics)}
        )
    for stream in infrastructure.streams:
        cfn.add(out, {cfn.stream_id(stream): _stream(project, stream)})
    for spec in project.tables.values():
        cfn.add(out, {cfn.table_id(spec.name): _project_table(project, spec)})
    for bus in infrastructure.buses:
        cfn.add(
            out,
            {
                cfn.bus_id(bus): cfn.resource(
                    "AWS::Events::EventBus", {"Name": naming.bus_name(project, bus)}
                )
            },
        )
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
    if queue.fifo:
        properties["FifoQueue"] = True
        properties["ContentBasedDeduplication"] = queue.content_dedup
    if queue.delay:
        properties["DelaySeconds"] = queue.delay
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


def _subscription(topic: str, subscription: TopicQueue) -> dict[str, Data]:
    properties: dict[str, Data] = {
        "TopicArn": cfn.ref(cfn.topic_id(topic)),
        "Protocol": "sqs",
        "Endpoint": cfn.arn(cfn.queue_id(subscription.queue)),
        "RawMessageDelivery": subscription.raw,
    }
    policy_data = model.filter_policy(subscription.filter)
    if policy_data is not None:
        properties["FilterPolicy"] = policy_data
    return cfn.resource("AWS::SNS::Subscription", properties)


def _queue_policy(queue_key: str, topics: tuple[str, ...]) -> dict[str, Data]:
    """The queue accepts messages from the topics subscribed to it, and from nothing else."""
    queue_id = cfn.queue_id(queue_key)
    return cfn.resource(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [cfn.ref(queue_id)],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TopicsSend",
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": cfn.arn(queue_id),
                        "Condition": {
                            "ArnEquals": {
                                "aws:SourceArn": [cfn.ref(cfn.topic_id(t)) for t in topics]
                            }
                        },
                    }
                ],
            },
        },
    )


def _stream(project: Project, stream: str) -> dict[str, Data]:
    return cfn.resource(
        "AWS::Kinesis::Stream",
        {
            "Name": naming.stream_name(project, stream),
            "RetentionPeriodHours": model.STREAM_RETENTION_HOURS,
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
        on_delete="Delete",
    )


def _project_table(project: Project, table: DynamoTable) -> dict[str, Data]:
    keys = [(table.key, table.key_type, "HASH")]
    if table.sort_key is not None:
        keys.append((table.sort_key, table.sort_type, "RANGE"))
    return cfn.resource(
        "AWS::DynamoDB::Table",
        {
            "TableName": naming.table_name(project, table.name),
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": kind} for name, kind, _ in keys
            ],
            "KeySchema": [{"AttributeName": name, "KeyType": role} for name, _, role in keys],
            "StreamSpecification": {"StreamViewType": table.stream},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
        skip=("CKV_AWS_119",),
        on_delete="Retain",
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
