"""modelops: a declarative GitOps engine for operating AI models.

The pipeline is load -> validate -> resolve -> diff -> plan -> apply -> record -> render; each stage
lives in its own module and hands frozen values to the next.
"""

from __future__ import annotations

__version__ = "0.1.0"
