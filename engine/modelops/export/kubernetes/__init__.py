"""Kubernetes objects for an environment: `modelops export kubernetes` and the gitops driver's `rendered/`.

Flavors:

- `plain`: blue-green and canary models get two Deployments (`<model>-blue`, `<model>-green`), a Service
  `<model>` whose selector names the slot that serves (a blue-green switch is a change of that selector)
  and a preview Service `<model>-preview` on the other slot. A canary weight becomes a replica split
  between the two Deployments behind one selector; plain Kubernetes can express that only with a fixed
  replica count that every weight divides, so anything else is refused with the flavor that can do it.
  Rolling and recreate models are one Deployment with the native strategy.
- `argo-rollouts`: a Rollout (blueGreen or canary steps mapped field by field), one AnalysisTemplate per
  analysis (prometheus provider), the active/stable and preview/canary Services.
- `kserve`: an InferenceService with `canaryTrafficPercent` and the predictor's autoscaling fields.

Scaling: a ScalingPolicy becomes an HPA (`autoscaling/v2`, with `behavior`) or, when it scales on a
Prometheus metric (or has a schedule, or scales to zero), a KEDA ScaledObject with prometheus triggers that
treat an empty answer as an error (`ignoreNullValues: "false"`) and a `fallback`. An autoscaled workload
never carries `replicas` (GitOps would fight the autoscaler on every sync). Every environment also gets a
PrometheusRule wrapping the exported alerting rules, for Prometheus Operator users.

What is rendered is a `ModelView` per model: which slot serves, and the revision each slot holds. The
export builds it from the desired configuration (the state a finished rollout leaves); the gitops driver
builds it from the recorded state, so `rendered/` mirrors what apply did, step by step.

Modules: `views` (what each model's slots hold), `objects` (metadata, containers, Services), `scaling` (HPA and
KEDA), one module per flavor (`plain`, `rollouts`, `kserve`), `jobs` (HTTP preview tests as Jobs) and `render`
(the files of an environment). What a flavor cannot express is refused by the rules of
`modelops.validate.kubernetes`, which validation reports before anything runs. May import base, config, core,
state values, validate and the other exporters; never a driver, the run machinery, report or the CLI.
"""
