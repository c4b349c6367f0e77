"""The plan for people on a terminal or in a CI log."""

from __future__ import annotations

from collections.abc import Callable

from cincopa_sync.plan import Change, Plan
from cincopa_sync.render.rows import (
    ORIGIN_HEADINGS,
    adopted_line,
    change_row,
    context_line,
    origin_groups,
    summary_line,
    unmanaged_line,
)

_COLORS = {"+": "32", "~": "33", ">": "36", "-": "31"}


def render_text(plan: Plan, *, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    lines: list[str] = []
    where = context_line(plan)
    if where:
        lines += [paint(where, "1"), ""]
    for origin, changes in origin_groups(plan):
        if origin:  # plan --base: the pull request's changes apart from the drift
            lines += [paint(f"{ORIGIN_HEADINGS[origin]}:", "1"), ""]
        lines += _change_lines(changes, paint)
    adopted = adopted_line(plan)
    if adopted:
        lines.append(adopted)
    for note in plan.notes:
        lines.append(f"Note: {note}")
    for warning in plan.warning_lines():
        lines.append(paint(f"Warning: {warning}", "33"))
    lines.append(paint(summary_line(plan), "1"))
    unmanaged = unmanaged_line(plan)
    if unmanaged:
        lines.append(unmanaged)
    return "\n".join(lines) + "\n"


def _change_lines(changes: list[Change], paint: Callable[[str, str], str]) -> list[str]:
    lines = []
    for change in changes:
        row = change_row(change)
        head = f"  {paint(row.symbol, _COLORS[row.symbol])} {row.address}"
        if row.location:
            head += f"  ({row.location})"
        lines.append(head)
        for f in row.fields:
            lines.append(f"      {f.field}: {f.delta or f'{f.before} -> {f.after}'}")
        for note in row.notes:
            lines.append(f"      # {note}")
        for call in row.calls:
            lines.append(paint(f"      call {call}", "2"))
        lines.append("")
    return lines
