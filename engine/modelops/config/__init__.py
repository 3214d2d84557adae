"""Configuration: reading the ops repository (load), the spec models and their JSON Schemas."""
