"""Damaged manifests given to `compare`, `analyse` or `sweep --resume`: exit 2, one message.

A manifest may be truncated, empty, not JSON, not UTF-8, not an object, nested without
end, a directory instead of a file, or hold keys of the wrong type or none of the keys a
command reads. Each is refused with one message naming the manifest, and no traceback.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import CONFIGS, cli_in_process

from scenarios.config import load_config
from scenarios.experiment.executor import base_digest
from scenarios.experiment.store import model_fingerprint
from scenarios.experiment.sweep import load_sweep

BASELINE = CONFIGS / "baseline.yaml"


main = cli_in_process  # scenarios ARGS in this process: (exit code, stderr)


def refused(code: int, message: str, *fragments: str) -> None:
    assert code == 2, message
    assert "Traceback" not in message
    assert "internal error" not in message
    errors = [line for line in message.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, message
    assert len(errors[0]) < 2500
    for fragment in fragments:
        assert fragment in errors[0], f"{fragment!r} missing from: {errors[0]}"


def _edit(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        manifest = json.loads(path.read_text())
        result = change(manifest)
        path.write_text(json.dumps(manifest if result is None else result))

    return damage


def _without(*keys: str) -> Callable[[Path], None]:
    return _edit(lambda m: [m.pop(k, None) for k in keys] and None)


def _set(key: str, value: Any) -> Callable[[Path], None]:
    return _edit(lambda m: m.__setitem__(key, value))


def _replace(text: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(text)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate,
    "empty": _replace(b""),
    "not_json": _replace(b"status: complete\n"),
    "not_utf8": _replace(b'{"status": "\xff\xfe"}'),
    "a_list": _replace(b"[1, 2, 3]"),
    "null": _replace(b"null"),
    "nested_without_end": _replace(b"[" * 100_000 + b"]" * 100_000),
    "a_directory": _directory,
}
RUN_DAMAGE: dict[str, Callable[[Path], None]] = {
    **DAMAGE,
    "no_keys": _replace(b"{}"),
    "no_scenario_or_label": _without("scenario", "label"),
    "no_config": _without("config"),
    "steps_a_string": _set("steps", "ten"),
    "seeds_a_string": _set("replication_seeds", "abc"),
    "seeds_of_strings": _set("replication_seeds", ["a", "b"]),
    "config_a_list": _set("config", [1, 2]),
    "regions_a_list": _edit(lambda m: m["config"].__setitem__("regions", [1, 2])),
    "region_a_number": _edit(lambda m: m["config"]["regions"].__setitem__("kabul", 5)),
    "actors_a_number": _edit(lambda m: m["config"].__setitem__("actors", 5)),
    "run_a_list": _edit(lambda m: m["config"].__setitem__("run", [])),
    "kind_a_number": _set("kind", 5),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two small finished runs (baseline and trilateral)."""
    from scenarios.experiment.run import execute_run

    root = tmp_path_factory.mktemp("runs")
    made = []
    for name in ("baseline", "trilateral"):
        cfg = load_config(CONFIGS / f"{name}.yaml", ["run.replications=2", "run.steps=10"])
        execute_run(cfg, root / name)
        made.append(root / name)
    return made[0], made[1]


@pytest.mark.parametrize("case", list(RUN_DAMAGE))
def test_compare_refuses_a_damaged_run_manifest(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    runs: tuple[Path, Path],
    case: str,
) -> None:
    base, other = runs
    damaged = tmp_path / "damaged"
    shutil.copytree(other, damaged)
    RUN_DAMAGE[case](damaged / "manifest.json")
    out = tmp_path / "comparison"
    code, message = main(monkeypatch, capsys, "compare", base, damaged, "--out", out)
    refused(code, message, str(damaged))
    assert not (out / "report.html").exists()


SWEEP = (
    f"name: t\nbase: {BASELINE}\nmethod: lhs\nsamples: 4\nreplications: 1\nsteps: 10\n"
    "parameters:\n  threat.plot_rate: {bounds: [0.5, 1.5]}\n"
)


def _sweep_manifest(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP, encoding="utf-8")
    spec, raw_base = load_sweep(path)
    return {
        "kind": "sweep",
        "base_config_hash": base_digest(raw_base),
        "model_fingerprint": model_fingerprint(),
        "status": "complete",
        "sweep": spec.name,
        "spec": spec.model_dump(mode="json"),
        "spec_hash": spec.digest(),
        "points": 4,
        "replications": 1,
        "runs": 4,
        "chunk_size": 1,
    }


SWEEP_DAMAGE: dict[str, Callable[[Path], None]] = {
    **DAMAGE,
    "no_spec": _without("spec"),
    "spec_a_number": _set("spec", 5),
    "spec_invalid": _edit(lambda m: m["spec"].__setitem__("method", "anneal")),
    "runs_a_string": _set("runs", "many"),
    "no_runs": _without("runs"),
    "points_a_list": _set("points", []),
    "status_a_list": _set("status", ["complete"]),
}


@pytest.mark.parametrize("case", list(SWEEP_DAMAGE))
def test_analyse_refuses_a_damaged_sweep_manifest(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    case: str,
) -> None:
    out = tmp_path / "sweep"
    (out / "parts").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps(_sweep_manifest(tmp_path)))
    SWEEP_DAMAGE[case](out / "manifest.json")
    code, message = main(monkeypatch, capsys, "analyse", out)
    refused(code, message, str(out))
    assert not (out / "report.html").exists()


@pytest.mark.parametrize(
    "case", ["truncated", "a_list", "no_spec", "spec_a_number", "no_runs", "chunk_size"]
)
def test_sweep_resume_refuses_a_damaged_sweep_manifest(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    case: str,
) -> None:
    out = tmp_path / "sweep"
    (out / "parts").mkdir(parents=True)
    manifest = _sweep_manifest(tmp_path)
    manifest["status"] = "running"
    (out / "manifest.json").write_text(json.dumps(manifest))
    damage = SWEEP_DAMAGE.get(case) or _set("chunk_size", "big")
    damage(out / "manifest.json")
    code, message = main(
        monkeypatch, capsys, "sweep", tmp_path / "sweep.yaml", "--resume", "--out", out
    )
    refused(code, message, str(out))
