"""Bridges from an Assessment to other tools (optional extras): :mod:`compliance_mia.integrations.mlflow`."""
