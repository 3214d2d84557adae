"""The local target's real runtime: model-server processes per slot (MLServer, or a model's own command), an
HAProxy router per model whose weights are the traffic split, and a Prometheus scraping the slots; processes
outlive the CLI and are recorded, with their ports and logs, under `.modelops/runtime/<env>/`
(docs/local-runtime.md).
"""
