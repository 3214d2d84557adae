"""The files derived from an environment's recorded state: `REPORT.md`, the post-incident reviews under `incidents/`
and, for the gitops driver, `rendered/`; and the incident records the state keeps (`modelops.ops.incidents`).

Every command that writes state (apply, rollback, monitor) ends here, under the environment's lock, so the files
committed beside `state.json` never drift from what `report --check` and `export kubernetes --check` expect. An
edit that plans nothing (an environment's approval, a freeze, the gitops namespace) still changes what is derived
from the configuration, and `apply` brings it up to date through the same step.
"""

from __future__ import annotations

from modelops.base.layout import rendered_dir, state_path
from modelops.core.model import EnvironmentConfig
from modelops.ops import incidents
from modelops.state.format import EnvironmentState
from modelops.state.store import write_state
from modelops.workspace import Workspace


def refresh(ws: Workspace, env: EnvironmentConfig) -> list[str]:
    """Bring the incidents, REPORT.md, the post-incident reviews and rendered/ in line with the recorded state of
    `env` (its configuration as given: a rollback in progress overrides it); returns the paths written, relative to
    the repository root."""
    from modelops.report.reviews import write_reviews
    from modelops.report.write import write_reports  # jinja2 loads only when there is something to render

    ws.forget(env.name)
    written = _incidents(ws, env, ws.state(env.name))
    written += _rendered(ws, env, ws.state(env.name))
    written += write_reviews(ws.root, env, ws.state(env.name).incidents.values()).written
    return list(dict.fromkeys(written + write_reports(ws, [env.name], {env.name: env}).written))


def _incidents(ws: Workspace, env: EnvironmentConfig, state: EnvironmentState) -> list[str]:
    """Open, join and close incidents by what the state records now (`modelops.ops.incidents`): an automatic
    rollback, a critical alert, their ends. A change is recorded in the state (one more serial)."""
    tracked = incidents.track(state, incidents.holds(env))
    if tracked == state.incidents:
        return []
    write_state(ws.root, state.model_copy(update={"serial": state.serial + 1, "incidents": tracked}))
    ws.forget(env.name)
    return [state_path(ws.root, env.name).relative_to(ws.root).as_posix()]


def _rendered(ws: Workspace, env: EnvironmentConfig, state: EnvironmentState) -> list[str]:
    """Re-render a stale rendered/ and record the rendering in the state (one more serial). A state the renderer
    refuses keeps the rendering it has: the step that reached it failed and said why (validation refuses such a
    configuration before anything runs)."""
    if env.spec.target.driver != "gitops":
        return []
    from modelops.export import rendered
    from modelops.export.kubernetes.render import rendered as render_recorded
    from modelops.validate.kubernetes import Refused

    try:
        files = render_recorded(env, state)
    except Refused:
        return []
    if not rendered.stale(ws.root, env.name, files):
        return []
    rendered.write(ws.root, env.name, files)
    write_state(ws.root, state.model_copy(update={"serial": state.serial + 1,
                                                  "rendered": rendered.recorded_rendering(env, state)}))
    ws.forget(env.name)
    return [path.relative_to(ws.root).as_posix() for path in (rendered_dir(ws.root, env.name),
                                                              state_path(ws.root, env.name))]
