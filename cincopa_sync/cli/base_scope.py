"""`plan --base DIR`: the base branch's manifests, loaded beside the pull request's and
planned against the same live read (see engine/pr_scope.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from cincopa_sync.api.redact import register_secrets
from cincopa_sync.cli.environment import manifest_layers
from cincopa_sync.engine.diff import PlanOptions, make_plan_for
from cincopa_sync.engine.pr_scope import base_paths, both, scope_to_base
from cincopa_sync.engine.read import LiveState
from cincopa_sync.errors import InvalidInput
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Plan, as_warning

base_option_help = (
    "A checkout of the base branch (e.g. a git worktree of main): the same manifest paths "
    "are planned there too, against the same read, and each change is marked as this pull "
    "request's or as drift the base already has."
)


@dataclass
class Base:
    directory: str
    desired: DesiredState | None  # None: the base manifests do not load
    why_not: str = ""

    @classmethod
    def load(cls, paths: tuple[str, ...], overlays: tuple[str, ...], directory: str) -> Base:
        """The same manifests (PATHs and --overlay layers, or --env's layers, with the
        pull request's vars) in the base checkout."""
        from cincopa_sync.manifest import load_manifests

        if not os.path.isdir(directory):
            raise InvalidInput(f"--base {directory}: not a directory")
        first, on_top, variables = manifest_layers(paths, overlays)
        cwd = os.getcwd()
        layers = [
            found for layer in (first, *on_top) if (found := base_paths(layer, directory, cwd))
        ]
        if not layers:  # the pull request adds every manifest: nothing is drift
            return cls(directory, DesiredState())
        try:
            desired = load_manifests(
                layers[0],
                os.environ,
                overlays=layers[1:],
                variables=variables,
                on_secret=register_secrets,
            )
            return cls(directory, desired)
        except InvalidInput as exc:
            errors = [p for p in exc.problems if p.severity == "error"]
            return cls(directory, None, f"{len(errors)} error(s), e.g. {errors[0]}")

    def reading(self, desired: DesiredState) -> DesiredState:
        """What the one live read must cover."""
        return both(desired, self.desired) if self.desired is not None else desired

    def scope(self, plan: Plan, live: LiveState, options: PlanOptions) -> Plan:
        """The pull request's plan with each change's origin and the drift it adopts."""
        base_plan, why = None, self.why_not
        if self.desired is not None:
            try:
                base_plan = make_plan_for(self.desired, live, options)
            except InvalidInput as exc:
                why = f"{len(exc.problems)} problem(s), e.g. {exc.problems[0]}"
        scoped = scope_to_base(plan, base_plan)
        if base_plan is None:
            warning = as_warning(
                f"--base {self.directory}: the base branch's manifests could not be planned "
                f"({why}): every change is shown as this pull request's"
            )
            scoped = replace(scoped, warnings=(*scoped.warnings, warning))
        return scoped
