"""100,000 objects through the planner and the renderings: any quadratic step would make
this test run for hours instead of seconds (how fast is for bench/, not for a test)."""

from __future__ import annotations

from types import MappingProxyType

from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.read import LiveState
from cincopa_sync.errors import Location
from cincopa_sync.kinds.asset import AssetLive, AssetSpec
from cincopa_sync.manifest.model import DesiredState
from cincopa_sync.render.json_format import render_json
from cincopa_sync.render.text import render_text

N = 100_000
CHANGED = 1_000


def test_a_hundred_thousand_assets_plan_in_linear_time():
    desired = DesiredState(
        specs={
            "asset": tuple(
                AssetSpec.at(
                    Location("assets.yaml", i + 2, 5),
                    "rid",
                    f"R{i}",
                    MappingProxyType(
                        {
                            "caption": f"Video {i}" + (" new" if i % (N // CHANGED) == 0 else ""),
                            "tags": frozenset({"a", f"t{i % 7}"}),
                        }
                    ),
                )
                for i in range(N)
            )
        }
    )
    live = LiveState(
        {
            "asset": AssetLive(
                {
                    f"R{i}": {
                        "rid": f"R{i}",
                        "caption": f"Video {i}",
                        "tags": frozenset({"a", f"t{i % 7}"}),
                    }
                    for i in range(N)
                }
            )
        }
    )
    plan = make_plan_for(desired, live)
    assert len(plan.changes) == CHANGED
    assert all(c.calls[0].params[1][0] == "caption" for c in plan.changes)
    assert render_text(plan).count("asset.set_meta(") == CHANGED
    assert render_json(plan).count('"asset.set_meta"') == CHANGED
