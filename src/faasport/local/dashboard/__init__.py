"""The live dashboard of ``faasport dev``, served at ``/_faasport/`` on the gateway's port:
functions, execution environments, recent invocations, queues, and buttons to invoke a
function or redrive a dead-letter queue. Updates arrive over Server-Sent Events."""
