"""The plan for people on a terminal or in a CI log.

Values are shown quoted with their escapes (show_value); everything else that comes from
a manifest or the account (addresses, file names, setting keys, notes) has its control
characters escaped, so no value can print a line of its own (a forged summary line).
"""

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
from cincopa_sync.shown import escape_controls as one_line

_COLORS = {"+": "32", "~": "33", ">": "36", "-": "31"}


def render_text(plan: Plan, *, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    lines: list[str] = []
    where = context_line(plan)
    if where:
        lines += [paint(one_line(where), "1"), ""]
    for origin, changes in origin_groups(plan):
        if origin:  # plan --base: the pull request's changes apart from the drift
            lines += [paint(f"{ORIGIN_HEADINGS[origin]}:", "1"), ""]
        lines += _change_lines(changes, paint)
    adopted = adopted_line(plan)
    if adopted:
        lines.append(one_line(adopted))
    for note in plan.notes:
        lines.append(f"Note: {one_line(note)}")
    for warning in plan.warning_lines():
        lines.append(paint(f"Warning: {one_line(warning)}", "33"))
    lines.append(paint(one_line(summary_line(plan)), "1"))
    unmanaged = unmanaged_line(plan)
    if unmanaged:
        lines.append(unmanaged)
    return "\n".join(lines) + "\n"


def _change_lines(changes: list[Change], paint: Callable[[str, str], str]) -> list[str]:
    lines = []
    for change in changes:
        row = change_row(change)
        head = f"  {paint(row.symbol, _COLORS[row.symbol])} {one_line(row.address)}"
        if row.location:
            head += f"  ({one_line(row.location)})"
        lines.append(head)
        for f in row.fields:
            lines.append(f"      {one_line(f.field)}: {f.delta or f'{f.before} -> {f.after}'}")
        for note in row.notes:
            lines.append(f"      # {one_line(note)}")
        for call in row.calls:
            lines.append(paint(f"      call {one_line(call)}", "2"))
        lines.append("")
    return lines
