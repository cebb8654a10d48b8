"""Report of `scenarios discover`: the box PRIM found, in words, and its peeling trajectory."""

from __future__ import annotations

from pathlib import Path

from scenarios.decision.discover import Box
from scenarios.report.compare_report import write_report
from scenarios.report.plots import plt, save


def trajectory_figure(box: Box, path: Path) -> None:
    """Density against coverage along the peeling trajectory; the chosen box marked."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    t = box.trajectory
    points = ax.scatter(t.coverage, t.density, c=t.res_dim, cmap="viridis", s=18)
    fig.colorbar(points, ax=ax, label="restricted parameters")
    ax.scatter(
        [box.coverage],
        [box.density],
        s=120,
        facecolors="none",
        edgecolors="red",
        label=f"chosen box (step {box.step})",
    )
    ax.set_xlabel("Coverage: share of all cases of interest inside the box")
    ax.set_ylabel("Density: share of the box's points that are cases")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("PRIM peeling trajectory")
    save(fig, path)


def write_discover_report(out: Path, box: Box, sentence: str, sweep_dir: Path, where: str) -> Path:
    """report.md and report.html in ``out``; returns report.html."""
    (out / "plots").mkdir(exist_ok=True)
    trajectory_figure(box, out / "plots" / "trajectory.png")
    lines = [
        f"# Where `{where}` holds",
        "",
        f"Sweep: `{sweep_dir}`. PRIM (EMA Workbench) on each sample point's outcome means.",
        "",
        sentence,
        "",
        "| parameter | low | high |",
        "|---|---:|---:|",
        *[f"| `{n}` | {lo:.3g} | {hi:.3g} |" for n, (lo, hi) in box.limits.items()],
        "",
        "![The peeling trajectory: each box trades coverage for density](plots/trajectory.png)",
        "",
        "*Every step of the trajectory is in `trajectory.csv` (coverage, density, mass, number "
        "of restricted parameters); the chosen box is the one of highest coverage whose "
        "density reaches the requested level (`--density`), or the densest.*",
        "",
    ]
    text = "\n".join(lines) + "\n"
    return write_report(out, text)
