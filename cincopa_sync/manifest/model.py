"""The desired state: what the manifests ask for, in the canonical shape the planner diffs.

Canonical values: text as written (str), tags as a frozenset of trimmed strings,
`video_thumb_sec` as int, portal settings as a dict of str -> str (the API stores strings).
Only the fields a manifest writes appear in `fields`: the rest are unmanaged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from cincopa_sync.errors import Location, Problem

# The asset fields a manifest may manage, in the order plans show them.
ASSET_TEXT_FIELDS = (
    "caption",
    "description",
    "long_description",
    "related_link_text",
    "related_link_url",
    "reference_id",
    "thumb_attached_rid",
)
ASSET_FIELDS = (*ASSET_TEXT_FIELDS, "tags", "video_thumb_sec")
WEBHOOK_TYPES = ("http", "slack")


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """One asset entry: identity by `rid` or by an exact `reference_id`."""

    by: str  # "rid" | "reference_id"
    ident: str
    fields: Mapping[str, object]
    location: Location

    @property
    def address(self) -> str:
        return f"asset.{self.ident}" if self.by == "rid" else f"asset.ref:{self.ident}"


@dataclass(frozen=True, slots=True)
class PortalSpec:
    subdomain: str
    previously: tuple[str, ...]
    fields: Mapping[str, object]  # name, visibility, settings: only those written
    location: Location

    @property
    def address(self) -> str:
        return f"portal.{self.subdomain}"


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    url: str
    type: str  # "http" | "slack"
    events: frozenset[str]
    security_key: str | None = field(repr=False)  # None: the manifest manages no key
    location: Location
    # (field, the value as written, e.g. "${CINCOPA_HOOK_KEY}") for each secret field;
    # "" when the secret is written out in the manifest itself.
    secret_templates: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def url_is_secret(self) -> bool:
        # A Slack incoming-webhook URL carries its own credential.
        return self.type == "slack"

    @property
    def address(self) -> str:
        return webhook_address(self.url, secret=self.url_is_secret)


def webhook_address(url: str, *, secret: bool) -> str:
    return f"webhook.{mask_url(url) if secret else url}"


def mask_url(url: str) -> str:
    """Keep scheme and host of a secret URL, hide the rest, and stay distinct per URL."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"{scheme}://{host}/(sensitive:{digest})"


@dataclass(frozen=True, slots=True)
class Prune:
    portals: bool = False
    webhooks: bool = False


@dataclass(frozen=True, slots=True)
class DesiredState:
    assets: tuple[AssetSpec, ...] = ()
    portals: tuple[PortalSpec, ...] = ()
    webhooks: tuple[WebhookSpec, ...] = ()
    prune: Prune = Prune()
    files: tuple[str, ...] = ()
    digest: str = ""  # sha256 over the manifest files (path and bytes), for saved plans
    warnings: tuple[Problem, ...] = field(default=())
