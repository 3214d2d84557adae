"""Versioned spec models of the configuration language (`apiVersion: modelops.dev/v1`), one module per kind family:
`environment`, `model`, `policies`; the document envelopes and the list of kinds in `kinds`; shared field types in
`types`. The pydantic models are the single source of truth: the JSON Schemas in `schemas/` are generated from them
(`modelops.config.schemas`), and a test keeps the two in agreement.
"""
