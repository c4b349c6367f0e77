"""The rich plan every rendering test reads: tests/render/rich/ (a manifest and a live
account covering every action and kind, with secrets), and the secrets it holds."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
RICH = HERE / "rich"
GOLDEN = HERE / "golden"

HOOK_KEY = "hook-key-CANARY-3b9f0e"
NEW_HOOK_KEY = "new-key-CANARY-8c21aa"
SLACK_URL = "https://hooks.slack.com/services/T0CANARY/B0CANARY/slackCanarySecret42"
LIVE_SLACK_URL = "https://hooks.slack.com/services/T0CANARY/B9CANARY/oldSlackCanarySecret"
ENV = {"CINCOPA_HOOK_KEY": HOOK_KEY, "NEW_HOOK_KEY": NEW_HOOK_KEY, "SLACK_WEBHOOK_URL": SLACK_URL}
# Every secret of the rich case, whole and by its telling parts: none may be rendered.
SECRETS = (
    HOOK_KEY,
    NEW_HOOK_KEY,
    SLACK_URL,
    LIVE_SLACK_URL,
    "slackCanarySecret42",
    "oldSlackCanarySecret",
    "B0CANARY",
    "B9CANARY",
)
