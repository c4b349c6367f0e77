"""The registry is the only seam: a kind defined here, and nowhere in the package, is
read, planned, rendered, saved, checked for staleness, applied and verified by the
engine as it stands, against a small fake API (httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from cincopa_sync import kinds as registry
from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.paging import Reader
from cincopa_sync.engine.apply import apply_plan, check_permissions
from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.planfile import read_saved_plan, write_saved_plan
from cincopa_sync.engine.read import read_live
from cincopa_sync.engine.staleness import stale_objects
from cincopa_sync.errors import Location, Problem, Refused
from cincopa_sync.kinds.base import Field, Kind, KindDiff, LiveObject, PlanOptions
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.plan import Change, FieldChange, Observed, PlanContext, plain
from cincopa_sync.render.json_format import plan_to_dict, render_json
from cincopa_sync.render.markdown import render_markdown
from cincopa_sync.render.text import render_text

LIST, SET, DELETE = "gizmo.list", "gizmo.set", "gizmo.delete"
SHAPE = ep.ListShape("gizmos", "gid")


@dataclass(frozen=True)
class GizmoSpec:
    gid: str
    fields: Mapping[str, object]
    location: Location

    @property
    def address(self) -> str:
        return f"gizmo.{self.gid}"

    def secrets(self) -> tuple[tuple[str, str], ...]:
        return ()


@dataclass
class GizmoLive:
    objects: dict[str, LiveObject] = field(default_factory=dict)


def _set_call(gid: str, fields: Mapping[str, object]) -> ep.Call:
    params = [("gid", gid)]
    params += [
        (k, ",".join(sorted(v)) if isinstance(v, tuple | frozenset) else str(v))
        for k, v in fields.items()
    ]
    return ep.make_call(SET, params)


class GizmoKind(Kind):
    name = "gizmo"
    spec_class = GizmoSpec
    plural = "gizmos"
    key = "gid"
    fields = (Field("color"), Field("sizes", ep.parse_list, "set"))
    list_endpoint = LIST
    prunable = True
    identity_fields = ("gid",)

    def parse(self, item: Mapping[str, object]) -> LiveObject:
        return {**super().parse(item), "gid": str(item["gid"])}

    def reread(self, reader: Reader, keys: Iterable[str]) -> dict[str, LiveObject]:
        items = reader.every(lambda n: ep.make_call(LIST, [("page", str(n))]), SHAPE)
        return {str(g["gid"]): g for g in map(self.parse, items)}

    def read(self, reader: Reader, specs: Sequence[Any], prune: bool) -> GizmoLive:
        return GizmoLive(self.reread(reader, ()))

    def live_from_json(self, data: Mapping[str, Any]) -> GizmoLive:
        return GizmoLive({str(g["gid"]): g for g in map(self.parse, data.get("gizmos", []))})

    def diff(
        self, specs: Sequence[GizmoSpec], live: GizmoLive, prune: bool, options: PlanOptions
    ) -> tuple[KindDiff, list[Problem]]:
        out = KindDiff()
        for spec in specs:
            current = live.objects.get(spec.gid)
            if current is None:
                out.changes.append(
                    Change(
                        spec.address,
                        self.name,
                        "create",
                        (
                            FieldChange("gid", None, spec.gid),
                            *(FieldChange(k, None, plain(v)) for k, v in spec.fields.items()),
                        ),
                        (_set_call(spec.gid, spec.fields),),
                        spec.location,
                        creates=True,
                        observed=(Observed(self.name, spec.gid, None),),
                    )
                )
                continue
            diffs = self.changes_of(spec.fields, current)
            if diffs:
                out.changes.append(
                    Change(
                        spec.address,
                        self.name,
                        "update",
                        tuple(diffs),
                        (_set_call(spec.gid, {d.field: d.after for d in diffs}),),
                        spec.location,
                        observed=(Observed(self.name, spec.gid, self.seen(spec.fields, current)),),
                    )
                )
        self.prune(out, live.objects, {s.gid for s in specs}, prune)
        return out, []

    def delete_change(self, key: str, current: LiveObject) -> Change:
        return Change(
            f"gizmo.{key}",
            self.name,
            "delete",
            (FieldChange("gid", key, None),),
            (ep.make_call(DELETE, [("gid", key)]),),
            observed=(Observed(self.name, key, ()),),
        )


class FakeApi:
    """The gizmo endpoints and ping, two gizmos a page."""

    def __init__(self, gizmos: dict[str, dict[str, str]]) -> None:
        self.gizmos = gizmos
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        params = dict(request.url.params)
        params.pop("api_token")
        self.calls.append(endpoint)
        if endpoint == "ping":
            return self._ok(accid="1", permissions="|gizmo.*|")
        if endpoint == LIST:
            page = int(params.get("page", "1"))
            items = [{"gid": g, **v} for g, v in sorted(self.gizmos.items())]
            data = {
                "page": page,
                "items_per_page": 2,
                "items_count": len(items),
                "pages_count": max(1, -(-len(items) // 2)),
            }
            return self._ok(gizmos=items[(page - 1) * 2 : page * 2], items_data=data)
        if endpoint == SET:
            gid = params.pop("gid")
            self.gizmos.setdefault(gid, {}).update(params)
            return self._ok()
        if endpoint == DELETE:
            self.gizmos.pop(params["gid"])
            return self._ok()
        return httpx.Response(404, json={"success": False, "message": "no such endpoint"})

    @staticmethod
    def _ok(**fields: object) -> httpx.Response:
        return httpx.Response(200, json={"success": True, **fields})


@pytest.fixture
def gizmos(monkeypatch: pytest.MonkeyPatch) -> Iterator[GizmoKind]:
    """The kind registered, its endpoints in the table; both gone after the test."""
    for endpoint in (
        ep.Endpoint(LIST, False, ("page",)),
        ep.Endpoint(SET, True, ("gid", "color", "sizes"), target="gid"),
        ep.Endpoint(DELETE, True, ("gid",), target="gid", effect="delete"),
    ):
        monkeypatch.setitem(ep.ENDPOINTS, endpoint.name, endpoint)
    kind = registry.register(GizmoKind())
    yield kind
    registry.unregister(kind.name)


def _desired(*specs: GizmoSpec, prune: bool = True) -> DesiredState:
    return DesiredState(specs={"gizmo": specs}, prune={"gizmo": prune})


def _spec(gid: str, line: int, **fields: object) -> GizmoSpec:
    return GizmoSpec(gid, fields, Location("gizmos.yaml", line, 5))


def test_a_kind_registered_here_goes_through_the_whole_engine(
    gizmos: GizmoKind, tmp_path: Path
) -> None:
    api = FakeApi(
        {
            "g1": {"color": "red", "sizes": "m,s"},
            "g2": {"color": "blue", "sizes": ""},
            "g3": {"color": "green", "sizes": "l"},
        }
    )
    client = CincopaClient("http://fake.test/v2/", "tok", transport=httpx.MockTransport(api))
    desired = _desired(
        _spec("g1", 2, color="red", sizes=frozenset({"s", "m", "xl"})),  # a size more
        _spec("g2", 5, color="black"),
        _spec("g4", 8, color="white", sizes=frozenset({"s"})),  # new
    )  # g3: pruned

    plan = make_plan_for(desired, read_live(client, desired))
    assert [(c.address, c.action) for c in plan.changes] == [
        ("gizmo.g1", "update"),
        ("gizmo.g2", "update"),
        ("gizmo.g3", "delete"),
        ("gizmo.g4", "create"),
    ]
    assert api.calls.count(LIST) == 2  # three gizmos, two a page
    text = render_text(plan)
    assert 'sizes: +"xl"' in text and 'call gizmo.delete(gid="g3")' in text
    assert json.loads(render_json(plan))["changes"][0]["fields"][0]["added"] == ["xl"]
    assert "<strong>gizmos</strong>" in render_markdown(plan)

    # saved, then checked for staleness against the live gizmos
    saved_path = tmp_path / "plan.json"
    plan = replace(plan, context=PlanContext("7", "fake.test"))  # a saved plan names its account
    write_saved_plan(saved_path, plan, desired, api_identity="fake", review=plan_to_dict(plan))
    saved = read_saved_plan(saved_path)
    assert stale_objects(client, saved) == plan

    check_permissions(client, plan)
    report = apply_plan(client, plan)
    assert [o.status for o in report.outcomes] == ["applied"] * 4
    assert report.drift == [] and report.unverified == "" and report.exit_code == 0
    assert api.gizmos == {
        "g1": {"color": "red", "sizes": "m,s,xl"},
        "g2": {"color": "black", "sizes": ""},
        "g4": {"color": "white", "sizes": "s"},
    }
    assert make_plan_for(desired, read_live(client, desired)).empty  # converged

    api.gizmos["g4"]["color"] = "grey"  # the account moved since the saved plan
    with pytest.raises(Refused, match=r"gizmo\.g1: sizes is now"):
        stale_objects(client, saved)


def test_a_write_the_api_ignores_is_reported_as_drift(gizmos: GizmoKind) -> None:
    class Deaf(FakeApi):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith(f"{SET}.json"):
                return self._ok()  # says yes, changes nothing
            return super().__call__(request)

    api = Deaf({"g1": {"color": "red", "sizes": ""}})
    client = CincopaClient("http://fake.test/v2/", "tok", transport=httpx.MockTransport(api))
    desired = _desired(_spec("g1", 2, color="blue"))
    report = apply_plan(client, make_plan_for(desired, read_live(client, desired)))
    assert [(d.address, d.field, d.expected, d.actual) for d in report.drift] == [
        ("gizmo.g1", "color", "blue", "red")
    ]
    assert report.exit_code == 5


def test_unregistered_the_kind_is_gone(gizmos: GizmoKind) -> None:
    assert registry.get("gizmo") is gizmos
    registry.unregister("gizmo")
    assert "gizmo" not in [k.name for k in registry.kinds()]
    registry.register(gizmos)  # the fixture unregisters it again
