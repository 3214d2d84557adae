"""The cluster behind a gitops target: what Argo CD, Argo Rollouts, KServe and Kubernetes report, read (never
written) through the Kubernetes API. `client` talks to the API (the optional `kubernetes` extra), `workloads` reads
the objects the controllers write into values (`values`), `read` fetches a model's objects and the Argo CD
Application, and `live` turns a read into the refresh's `LiveModel`."""
