"""Secrets at runtime: ``faasport.secrets.get(name)``."""
