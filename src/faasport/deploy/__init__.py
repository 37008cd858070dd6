"""From the parsed configuration to deployable artifacts and infrastructure as code."""
