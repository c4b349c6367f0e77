"""An asset's create, run as steps: the upload from its source URL, its status read with
growing pauses (no worker held in between) until it completes, then the one set_meta on
the new rid. A lost upload answer is never sent again: that could make two assets."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from cincopa_sync.api import endpoints as ep
from cincopa_sync.errors import ApiError, OutcomeUnknown
from cincopa_sync.kinds.base import Ended, Interrupted, StepContext, Steps, Wait
from cincopa_sync.plan import Change

if TYPE_CHECKING:
    from cincopa_sync.api.client import CincopaClient

# An upload's status is read first after POLL_FIRST seconds, then after pauses growing by
# POLL_GROWTH up to POLL_MAX: few reads for uploads of seconds or of an hour alike.
POLL_FIRST, POLL_GROWTH, POLL_MAX = 1.0, 2.0, 60.0


def filename_of(source: str | None) -> str:
    """The filename an upload of `source` gives the new asset: the URL's last path segment,
    percent-escapes decoded ("" when the path ends in "/")."""
    return unquote(urlsplit(source or "").path.rsplit("/", 1)[-1])


def run_create(change: Change, ctx: StepContext) -> Steps:
    """Upload, read its status with growing pauses (holding no worker in between) until it
    completes, then the one set_meta on the new rid. A lost upload answer is never sent
    again: that could make two assets."""
    upload, status_read, set_meta = change.calls
    client = ctx.client
    name = filename_of(upload.param("input"))
    try:
        body = client.call(upload, idempotent=False)
    except OutcomeUnknown as exc:
        return Ended("unknown", f"{exc}. {_NOT_AGAIN} {_check(name)}")
    except ApiError as exc:
        return Ended("failed", f"{exc}; nothing was uploaded")
    status_id = str(body.get(ep.F_STATUS_ID) or "")
    if not status_id:
        return Ended("unknown", f"the upload answered without a status_id. {_check(name)}")
    read = status_read.filled(status_id=status_id)
    scale = client.policy.time_scale  # tests run the pauses faster
    deadline = ctx.clock() + ctx.wait_timeout
    pause = POLL_FIRST * scale
    while True:
        try:
            yield Wait(max(0.0, min(pause, deadline - ctx.clock())))
        except Interrupted:
            return _abort(client, status_id, "interrupted while the upload was processing", name)
        try:
            answer = client.call(read)
        except ApiError as exc:
            why = f"the upload started (status_id {status_id}) but its status could not be read"
            return Ended("unknown", f"{why}: {exc}. {_check(name)}")
        state = answer.get(ep.F_UPLOAD_STATUS)
        if state == ep.UPLOAD_COMPLETED:
            break
        if state == ep.UPLOAD_FAILED:
            more = str(answer.get(ep.F_UPLOAD_MORE) or "").strip()
            return Ended(
                "failed",
                f"the upload failed{f' ({more})' if more else ''}; nothing was written for it",
            )
        if ctx.clock() >= deadline:
            why = f"the upload did not complete within --upload-timeout ({ctx.wait_timeout:g} s)"
            return _abort(client, status_id, why, name)
        pause = min(pause * POLL_GROWTH, POLL_MAX * scale)
    rid = str(answer.get(ep.F_UPLOAD_RESID) or "")
    if not rid:
        return Ended("unknown", f"the upload completed without naming its asset. {_check(name)}")
    try:
        client.call(set_meta.filled(rid=rid))
    except ApiError as exc:
        return Ended(
            "failed",
            f"asset {rid} was uploaded, but its set_meta failed: {exc}. Plan again: it warns "
            f"about {rid} (no reference_id) and says how to adopt it",
            made=rid,
        )
    return Ended("applied", made=rid)


_NOT_AGAIN = "The upload was not sent again: that could make a second asset."


def _check(filename: str) -> str:
    return (
        f"Check by running `plan` again: if an asset was made, the plan warns about an asset "
        f"without reference_id named {filename!r} and says how to adopt it; if not, it plans "
        "the create again"
    )


def _abort(client: CincopaClient, status_id: str, why: str, filename: str) -> Ended:
    try:
        client.call(ep.asset_upload_abort(status_id))
    except ApiError as exc:
        return Ended(
            "unknown",
            f"{why}; aborting it (status_id {status_id}) failed: {exc}. {_check(filename)}",
        )
    return Ended("failed", f"{why}: aborted it (asset.upload_from_url_abort), no asset was made")
