"""The configuration language: the YAML loader (ruamel, a source map for located errors, limits against hostile
files), discovery of an ops repository and its parse cache, the pydantic spec models of every kind, the scalar
formats (durations, sizes, cron, secret references), the metric catalogue and the JSON Schemas generated from the
models. May import base only.
"""
