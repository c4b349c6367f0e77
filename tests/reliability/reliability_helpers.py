"""Shared by the reliability tests: a small account whose plan makes every kind of call,
and a served in-process Emulator (so tests inject faults and read its call log).

The account and its manifest are built so that one apply makes each write the tool knows:
asset.set_meta (3), portal.set of an existing portal and of a new one, portal.rename,
portal.remove (prune), webhook.set of an existing and of a new URL, webhook.set_slack
(new), webhook.delete (prune).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from support import TOKEN
from support import Served as BaseServed

from cincopa_sync.api.retry import TIME_SCALE_ENV

__all__ = ["TOKEN"]
# Every backoff, Retry-After, deadline and timeout of the client x 0.01: a `429:5` waits
# 50 ms, the read timeout is 0.3 s, a call's whole budget 1.2 s.
SCALE = 0.01
HOOK_KEY = "hook-key-for-tests"
SLACK_URL = "https://hooks.slack.com/services/T0REL/B0REL/reliabilitysecret"

SEED: dict[str, Any] = {
    "assets": [
        {"id": "1", "rid": "RID_A_000001", "caption": "A", "tags": ["x"]},
        {"id": "2", "rid": "RID_B_000002", "caption": "B", "reference_id": "SKU-B"},
        {"id": "3", "rid": "RID_C_000003", "caption": "C"},
        {"id": "4", "rid": "RID_D_000004", "caption": "D (unmanaged)"},
    ],
    "portals": [
        {"subdomain": "keep-me", "name": "Old name"},
        {"subdomain": "old-name", "name": "Renamed", "visibility": "private"},
        {"subdomain": "stale", "name": "No manifest names me"},
    ],
    "webhooks": [
        {"hook_url": "https://hooks.example.com/update", "events": ["asset.uploaded"]},
        {"hook_url": "https://hooks.example.com/stale", "events": ["asset.*"]},
    ],
}

MANIFEST = """\
assets:
  - rid: RID_A_000001
    caption: A new
    tags: [x, y]
  - reference_id: SKU-B
    description: described
  - rid: RID_C_000003
    caption: C new
portals:
  - subdomain: keep-me
    name: New name
  - subdomain: new-name
    previously: [old-name]
  - subdomain: fresh
    name: Fresh portal
    visibility: private
webhooks:
  - url: https://hooks.example.com/update
    events: [asset.uploaded, asset.updated]
  - url: https://hooks.example.com/new
    events: [asset.deleted]
    security_key: ${CINCOPA_HOOK_KEY}
  - url: ${SLACK_WEBHOOK_URL}
    type: slack
    events: [asset.uploaded]
prune:
  portals: true
  webhooks: true
"""

# The objects a create, rename or delete names: each must be written exactly once.
ONCE = {
    ("portal.set", "subdomain", "fresh"),
    ("portal.rename", "subdomain", "old-name"),
    ("portal.remove", "subdomain", "stale"),
    ("webhook.set", "hook_url", "https://hooks.example.com/new"),
    ("webhook.set_slack", "hook_url", SLACK_URL),
    ("webhook.delete", "hook_url", "https://hooks.example.com/stale"),
}
CHANGES = 11  # changes in the plan of MANIFEST over SEED
# The calls of a fault-free `apply` of MANIFEST over SEED: what fault tests count from.
BASELINE = {
    "asset.get_tags": 1,  # the manifest writes tags: new ones are warned about
    "asset.list": 2,  # the read, and the read-back that verifies
    "asset.set_meta": 3,
    "ping": 1,  # apply's permission check
    "portal.check": 2,  # fresh, new-name
    "portal.list": 2,
    "portal.remove": 1,
    "portal.rename": 1,
    "portal.set": 2,
    "webhook.delete": 1,
    "webhook.list": 2,
    "webhook.set": 2,
    "webhook.set_slack": 1,
}


def addresses(plan: dict[str, Any]) -> list[str]:
    return [c["address"] for c in plan["changes"]]


class Served(BaseServed):
    """The shared served emulator, its CLI environment with the manifest's secrets and
    the client's waits scaled down."""

    @property
    def env(self) -> dict[str, str]:
        return {
            "CINCOPA_API_TOKEN": self.token,
            "CINCOPA_HOOK_KEY": HOOK_KEY,
            "SLACK_WEBHOOK_URL": SLACK_URL,
            TIME_SCALE_ENV: str(SCALE),
        }

    def effective_writes(self) -> Counter[tuple[str, str, str]]:
        """Writes that took effect, by (endpoint, identity param, value)."""
        out: Counter[tuple[str, str, str]] = Counter()
        for call in self.emulator.writes():
            key = "rid" if call.endpoint == "asset.set_meta" else None
            key = key or ("subdomain" if call.endpoint.startswith("portal.") else "hook_url")
            out[(call.endpoint, key, call.params.get(key, ""))] += 1
        return out

    def assert_nothing_made_twice(self) -> None:
        """Every create, rename and delete took effect at most once."""
        made = self.effective_writes()
        twice = {k: n for k, n in made.items() if k in ONCE and n > 1}
        assert twice == {}, f"written more than once: {twice}"
