"""The local serverless runtime: gateway, invokers, execution environments."""
