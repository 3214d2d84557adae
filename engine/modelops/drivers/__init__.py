"""Drivers execute plan steps against a target. See `base.Driver` for the contract."""
