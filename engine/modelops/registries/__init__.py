"""Model registries at the edge: a `Registry` Protocol (resolve a reference to a version, its source and a digest
of its files), the MLflow Model Registry over its REST API, by name in a plain dict, and the resolve stage that pins
the registry artifacts of the environments being planned. May import base, config, state values, core and validate.
"""
