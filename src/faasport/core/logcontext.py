"""The current invocation's log context: provider entry points write ``request_id`` and
``cold_start`` here (one invocation at a time per environment), every JSON log line reads
them. Its own module so that :mod:`faasport.core.logs` (imported by every entry point) and
:mod:`faasport.core.jsonlog` (imported on the first log line) both use it without importing
each other."""

current: dict[str, object] = {"request_id": None, "cold_start": False}
