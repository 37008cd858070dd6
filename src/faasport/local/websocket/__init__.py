"""API Gateway WebSocket APIs on the local gateway: events and connections."""
