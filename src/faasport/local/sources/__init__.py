"""The local event sources of ``faasport dev``: queues, topics, buckets, schedules, streams
and an event bus on one SQLite database (:mod:`.event_sources` ties them together)."""
