"""moto's SNS, SQS and Kinesis set up as the items app expects: the topic with a queue
subscribed to it (so a test reads what was published), and the stream."""

from __future__ import annotations

import contextlib
from typing import Any

import boto3


class Cloud:
    """The topic, a queue subscribed to it and the stream, on moto; boto3 clients for them."""

    def __init__(self, url: str) -> None:
        self.clients: list[Any] = []
        self.sns, self.sqs, self.kinesis = (self.client(url, s) for s in ("sns", "sqs", "kinesis"))
        self.topic = self.sns.create_topic(Name="item-created")["TopicArn"]
        self.queue = self.sqs.create_queue(QueueName="audit-probe")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=queue_arn)
        with contextlib.suppress(self.kinesis.exceptions.ResourceInUseException):
            self.kinesis.create_stream(StreamName="item-changes", ShardCount=1)
        shard = self.kinesis.list_shards(StreamName="item-changes")["Shards"][0]["ShardId"]
        self.iterator = self.kinesis.get_shard_iterator(
            StreamName="item-changes", ShardId=shard, ShardIteratorType="LATEST"
        )["ShardIterator"]

    def client(self, url: str, service: str) -> Any:
        client = boto3.client(
            service,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        self.clients.append(client)
        return client

    def published(self) -> list[str]:
        """The SNS envelopes delivered to the subscribed queue since the last call."""
        bodies = []
        while True:
            found = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
            messages = found.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])

    def records(self) -> list[bytes]:
        """The stream's records put since the last call."""
        found = self.kinesis.get_records(ShardIterator=self.iterator)
        self.iterator = found["NextShardIterator"]
        return [record["Data"] for record in found["Records"]]

    def close(self) -> None:
        for client in self.clients:
            client.close()
