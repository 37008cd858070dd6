"""Non-HTTP events as typed records, the same on every cloud.

A queue message, a topic notification, an object stored or removed in a bucket, a scheduled
tick, a stream record, a table change and a custom bus event each become one record class,
whichever provider delivered them::

    from faasport import events

    def handle(event, context):
        for record in events.records(event):
            if isinstance(record, events.Message):
                process(record.json())

``records`` accepts an AWS Lambda event (SQS, SNS, S3, EventBridge, Kinesis, DynamoDB
Streams) and the record lists that :mod:`faasport.gcp` and :mod:`faasport.azure` hand to
event handlers, so one handler serves all three clouds. ``process(event, handle)`` handles a
batch record by record and reports partial failures the way the source retries them.
"""

from faasport.core.records import (
    BusEvent,
    ChangeRecord,
    Message,
    ObjectChange,
    Record,
    StreamRecord,
    Tick,
)
from faasport.events.batch import BatchFailedError, BatchResponse, process
from faasport.events.records import records

__all__ = [
    "BatchFailedError",
    "BatchResponse",
    "BusEvent",
    "ChangeRecord",
    "Message",
    "ObjectChange",
    "Record",
    "StreamRecord",
    "Tick",
    "process",
    "records",
]
