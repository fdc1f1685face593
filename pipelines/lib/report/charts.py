"""The report's charts: matplotlib figures saved as SVG text, inlined in the page (no JavaScript, no network).

Every chart draws the rows of one report figure (data.Figure), nothing else. Text stays text in the SVG
(`svg.fonttype = none`), and each chart gets its own `svg.hashsalt`, so the ids of two inline SVGs never clash.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # no display: the charts are only ever written to SVG

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from pipelines.lib.report.data import (  # noqa: E402
    LIFECYCLE_ORDER,
    NOT_YET_KNOWN,
    WATERFALL_STAGES,
    Figure,
)

PALETTE = ("#2f6db5", "#e07b39", "#3a9e6f", "#b5452f", "#7b5ea7", "#8c6d46", "#d16ba5", "#6b7785", "#b8a92f",
           "#3ab0c2", "#1f3f6e", "#9e3a6f")  # fmt: skip
BLUE, GREY, RED = "#2f6db5", "#9aa4b1", "#b42318"


def to_svg(fig, salt: str) -> str:
    """The figure as an inline <svg> element (no XML prolog, no metadata), then closed."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)


def waterfall_chart(fig_data: Figure) -> str | None:
    rows = fig_data.dicts()
    if not rows:
        return None
    cols = min(4, len(rows))
    nrows = math.ceil(len(rows) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows), squeeze=False)
    labels = [label for _, label in WATERFALL_STAGES]
    for i, ax in enumerate(axes.flat):
        if i >= len(rows):
            ax.set_visible(False)
            continue
        row = rows[i]
        values = [int(row[c] or 0) for c, _ in WATERFALL_STAGES]
        colors = [GREY] + [BLUE] * (len(values) - 2) + [PALETTE[2]]
        ax.bar(range(len(values)), values, color=colors)
        for x, v in enumerate(values):
            ax.text(x, v, f"{v:,}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(values)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_title(str(row["campaign_id"]), fontsize=9)
        ax.set_ylim(0, max(max(values), 1) * 1.18)
        _style(ax)
    fig.tight_layout()
    return to_svg(fig, "waterfall")


def schedule_chart(fig_data: Figure) -> str | None:
    rows = fig_data.dicts()
    if not rows:
        return None
    days = sorted({r["day"] for r in rows})
    series = sorted({(r["campaign_id"], r["channel"]) for r in rows})
    fig, ax = plt.subplots(figsize=(10, 3.6))
    bottom = [0] * len(days)
    for n, (campaign, channel) in enumerate(series):
        counts = {
            r["day"]: r["contacts"] for r in rows if (r["campaign_id"], r["channel"]) == (campaign, channel)
        }
        heights = [int(counts.get(d, 0)) for d in days]
        ax.bar(range(len(days)), heights, bottom=bottom, color=PALETTE[n % len(PALETTE)],
               label=f"{campaign} ({channel})")  # fmt: skip
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xticks(range(len(days)), [d.isoformat() for d in days], rotation=30, ha="right")
    ax.set_ylabel("planned contacts")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _style(ax)
    return to_svg(fig, "schedule")


def hbar_chart(fig_data: Figure, label_col: str, value_col: str, salt: str, color: str = BLUE) -> str | None:
    rows = fig_data.dicts()
    if not rows:
        return None
    labels = [_short(str(r[label_col])) for r in rows][::-1]
    values = [int(r[value_col] or 0) for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 0.8))
    ax.barh(range(len(values)), values, color=color)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,}", va="center", fontsize=8)
    ax.set_yticks(range(len(values)), labels, fontsize=8)
    ax.set_xlim(0, max(max(values), 1) * 1.15)
    _style(ax)
    return to_svg(fig, salt)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def rfv_grid_chart(fig_data: Figure) -> str | None:
    rows = fig_data.dicts()
    if not rows:
        return None
    counts = {(int(r["r_score"]), int(r["f_score"])): int(r["customers"]) for r in rows}
    top = max(counts.values())
    fig, ax = plt.subplots(figsize=(5, 4.2))
    cmap = plt.get_cmap("Blues")
    for r in range(1, 6):
        for f in range(1, 6):
            n = counts.get((r, f), 0)
            shade = 0.08 + 0.85 * (n / top if top else 0)
            ax.add_patch(Rectangle((f - 0.5, r - 0.5), 1, 1, facecolor=cmap(shade), edgecolor="white"))
            ax.text(f, r, f"{n:,}", ha="center", va="center", fontsize=9,
                    color="white" if shade > 0.55 else "#1f2328")  # fmt: skip
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_xticks(range(1, 6))
    ax.set_yticks(range(1, 6))
    ax.set_xlabel("F score (frequency)")
    ax.set_ylabel("R score (recency)")
    ax.set_aspect("equal")
    _style(ax)
    return to_svg(fig, "rfv_grid")


def sankey_chart(fig_data: Figure) -> str | None:
    """Two columns of stages (then, now) joined by bands as wide as the number of customers."""
    rows = [r for r in fig_data.dicts() if int(r["customers"] or 0) > 0]
    if not rows:
        return None
    order = {s: i for i, s in enumerate((NOT_YET_KNOWN, *LIFECYCLE_ORDER))}

    def ordered(stages):
        return sorted(stages, key=lambda s: (order.get(s, 99), s))

    left = ordered({r["from_stage"] for r in rows})
    right = ordered({r["to_stage"] for r in rows})
    total = sum(int(r["customers"]) for r in rows)
    gap = total * 0.02
    colors = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate((*LIFECYCLE_ORDER, NOT_YET_KNOWN))}

    def stack(stages, side_col):
        pos, y = {}, 0.0
        for s in stages:
            size = sum(int(r["customers"]) for r in rows if r[side_col] == s)
            pos[s] = [y, size]
            y += size + gap
        return pos, y - gap

    lpos, lheight = stack(left, "from_stage")
    rpos, rheight = stack(right, "to_stage")
    height = max(lheight, rheight)
    fig, ax = plt.subplots(figsize=(9, 7.5))
    x0, x1, w = 0.0, 1.0, 0.04
    lcursor = {s: p[0] for s, p in lpos.items()}
    rcursor = {s: p[0] for s, p in rpos.items()}
    for r in sorted(rows, key=lambda r: (order.get(r["from_stage"], 99), order.get(r["to_stage"], 99))):
        n = int(r["customers"])
        ly, ry = lcursor[r["from_stage"]], rcursor[r["to_stage"]]
        lcursor[r["from_stage"]] += n
        rcursor[r["to_stage"]] += n
        a, b = x0 + w, x1 - w
        mid = (a + b) / 2
        verts = [(a, ly), (mid, ly), (mid, ry), (b, ry), (b, ry + n), (mid, ry + n), (mid, ly + n), (a, ly + n),
                 (a, ly)]  # fmt: skip
        codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.LINETO,
                 MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.CLOSEPOLY]  # fmt: skip
        ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=colors.get(r["from_stage"], GREY), alpha=0.35,
                               edgecolor="none"))  # fmt: skip
    for side, pos, x, ha in ((left, lpos, x0, "right"), (right, rpos, x1, "left")):
        for s in side:
            y, size = pos[s]
            ax.add_patch(Rectangle((x if ha == "left" else x, y), w if ha == "right" else -w, size,
                                   facecolor=colors.get(s, GREY)))  # fmt: skip
            tx = x - 0.01 if ha == "right" else x + 0.01
            ax.text(tx, y + size / 2, f"{s} ({size:,})", ha=ha, va="center", fontsize=8)
    first = rows[0]
    ax.text(x0 + w / 2, -gap * 2, str(first["from_date"]), ha="center", va="top", fontsize=9, weight="bold")
    ax.text(x1 - w / 2, -gap * 2, str(first["to_date"]), ha="center", va="top", fontsize=9, weight="bold")
    ax.set_xlim(-0.35, 1.35)
    ax.set_ylim(height + gap, -gap * 5)
    ax.axis("off")
    return to_svg(fig, "lifecycle_flow")


def uplift_chart(fig_data: Figure) -> str | None:
    """Absolute uplift with its 95% interval per row (programme, objectives, campaigns), zero marked."""
    need = {"abs_uplift", "ci_low", "ci_high", "key", "level"}
    if not need <= set(fig_data.columns):
        return None
    rows = [r for r in fig_data.dicts() if r["abs_uplift"] is not None]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(rows) + 1.0))
    for y, r in enumerate(reversed(rows)):
        est = float(r["abs_uplift"]) * 100
        low = float(r["ci_low"]) * 100 if r["ci_low"] is not None else est
        high = float(r["ci_high"]) * 100 if r["ci_high"] is not None else est
        weak = bool(r.get("underpowered")) or (low <= 0 <= high)
        color = GREY if weak else BLUE
        ax.plot([low, high], [y, y], color=color, linewidth=2)
        ax.plot([est], [y], "o", color=color)
    ax.axvline(0, color=RED, linewidth=1, linestyle="--")
    labels = [f"{r['level']}: {r['key']}" for r in reversed(rows)]
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.set_xlabel(
        "uplift in conversion rate, percentage points (95% interval; grey: not distinguishable from 0)"
    )
    _style(ax)
    return to_svg(fig, "uplift")


def touches_chart(fig_data: Figure) -> str | None:
    """Touches before each milestone (25th-75th percentile, median) beside its reference range from the table."""
    rows = [r for r in fig_data.dicts() if r.get("median") is not None]
    if not rows or not {"p25", "median", "p75"} <= set(fig_data.columns):
        return None
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(rows) + 1.2))
    for y, r in enumerate(reversed(rows)):
        if r.get("reference_low") is not None and r.get("reference_high") is not None:
            low, high = float(r["reference_low"]), float(r["reference_high"])
            ax.add_patch(Rectangle((low, y - 0.35), high - low, 0.7, facecolor=PALETTE[1], alpha=0.18))
            ax.text(high, y + 0.3, f" reference {low:g}-{high:g}", fontsize=7, va="center", color="#8a4a1c")
        p25, med, p75 = (float(r[c]) for c in ("p25", "median", "p75"))
        ax.plot([p25, p75], [y, y], color=BLUE, linewidth=3)
        ax.plot([med], [y], "o", color=BLUE)
        ax.text(p75, y - 0.05, f"  median {med:g}", fontsize=8, va="top")
    ax.set_yticks(range(len(rows)), [f"{r['stage']} (from {r.get('counted_from', 'first touch')})"
                                     for r in reversed(rows)], fontsize=8)  # fmt: skip
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(left=0)
    ax.set_xlabel("marketing touches before the milestone (bar: 25th-75th percentile, dot: median)")
    _style(ax)
    return to_svg(fig, "touches")


def kpi_trend_chart(fig_data: Figure) -> str | None:
    """One small line chart per objective and KPI over the months of objective_kpis."""
    rows = [r for r in fig_data.dicts() if r.get("value") is not None]
    if not rows:
        return None
    series: dict[tuple, list] = {}
    for r in rows:
        series.setdefault((r["objective"], r["kpi"]), []).append((str(r["period"]), float(r["value"])))
    cols = min(3, len(series))
    nrows = math.ceil(len(series) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 2.3 * nrows), squeeze=False)
    for ax, ((objective, kpi), points) in zip(axes.flat, sorted(series.items()), strict=False):
        points.sort()
        ax.plot(range(len(points)), [v for _, v in points], marker="o", markersize=3, color=PALETTE[2])
        ax.set_xticks(range(len(points)), [p[2:] for p, _ in points], rotation=60, fontsize=6)
        ax.set_title(f"{objective}: {kpi}", fontsize=8)
        _style(ax)
    for ax in list(axes.flat)[len(series) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return to_svg(fig, "kpi_trend")


# figure key -> chart function (figures without one are tables only)
CHARTS: dict[str, Callable[[Figure], str | None]] = {
    "waterfall": waterfall_chart,
    "schedule": schedule_chart,
    "not_contacted": lambda f: hbar_chart(f, "reason", "decisions", "not_contacted", GREY),
    "rfv_grid": rfv_grid_chart,
    "personas": lambda f: hbar_chart(f, "persona", "customers", "personas", PALETTE[4]),
    "lifecycle_stages": lambda f: hbar_chart(
        f, "lifecycle_stage", "customers", "lifecycle_stages", PALETTE[2]
    ),
    "lifecycle_flow": sankey_chart,
    "uplift": uplift_chart,
    "kpi_trend": kpi_trend_chart,
    "touches_to_conversion": touches_chart,
}
