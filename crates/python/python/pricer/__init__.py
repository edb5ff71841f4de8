"""pricer: fine-tuning datasets for price prediction from Amazon product metadata.

The "price is right" recipes (V1, 2024; V2, the course's December 2025 edition),
reproduced byte for byte by a Rust pipeline::

    import pricer
    run = pricer.run("fixtures")      # a bundled config, a TOML file, or a dict
    run                               # the stage table (in a notebook)
    ds = run.dataset()                # the exported Hub folder as a datasets.DatasetDict

``datasets`` and ``pyarrow`` are imported only by the methods that need them.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

from pricer import _pricer
from pricer._pricer import PricerError, __version__

__all__ = ["run", "Run", "Stage", "PricerError", "configs", "status", "__version__"]

Config = Union[str, "os.PathLike[str]", Dict[str, Any]]


def configs() -> Dict[str, str]:
    """The bundled configs: name -> what it runs."""
    return dict(_pricer.configs())


def _source(config: Config):
    """(kind, value) for the native runner: a bundled name, a file, or a dict."""
    if isinstance(config, dict):
        return "json", json.dumps(config)
    if isinstance(config, os.PathLike):
        return "file", os.fspath(config)
    if isinstance(config, str):
        if config in configs():
            return "bundled", config
        if os.path.exists(config) or config.endswith(".toml"):
            return "file", config
        names = ", ".join(configs())
        raise PricerError(f"{config!r}: no such config file, and not a bundled config ({names})")
    raise TypeError(f"config must be a bundled name, a path or a dict, not {type(config).__name__}")


@dataclass(frozen=True)
class Stage:
    """One stage of a run: what happened to it and what it counted."""

    stage: str
    #: "ran", "skipped" (up to date) or "taken" (before --start-at).
    outcome: str
    dir: Path
    #: The line the command prints for it.
    line: str
    rows_in: int
    kept: int
    rejected: int
    rejected_by_reason: Dict[str, int] = field(default_factory=dict)
    #: The time its run took (the run that made its outputs, when skipped).
    wall_seconds: float = 0.0


def _import(module: str, method: str):
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(
            f"Run.{method}() needs {module}: pip install 'pricer[datasets]' (or pip install {module})"
        ) from e


class Run:
    """A finished run folder: its stages, its report, its exported data."""

    def __init__(self, report: Dict[str, Any]):
        self.path = Path(report["out"])
        self.threads: int = report["threads"]
        self.stages: List[Stage] = [
            Stage(
                stage=s["stage"],
                outcome=s["outcome"],
                dir=Path(s["dir"]),
                line=s["line"],
                rows_in=s["rows_in"],
                kept=s["kept"],
                rejected=s["rejected"],
                rejected_by_reason=dict(s["rejected_by_reason"]),
                wall_seconds=s["wall_seconds"],
            )
            for s in report["stages"]
        ]
        self._closing: str = report["closing"]

    @property
    def report(self) -> Optional[Path]:
        """The audit's report.html, when the run has one."""
        path = self.path / "audit" / "report.html"
        return path if path.is_file() else None

    @property
    def evaluation(self) -> Optional[dict]:
        """The eval stage's metrics.json (each predictor's figures, as the course's Tester
        computes them), when the run scored predictors; its page is eval/report.html."""
        path = self.path / "eval" / "metrics.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def _hub_folders(self) -> Dict[str, Path]:
        export = self.path / "export"
        if (export / "hub" / "README.md").is_file():
            return {"hub": export / "hub"}
        return {
            p.name: p
            for p in sorted(export.iterdir() if export.is_dir() else [])
            if (p / "README.md").is_file()
        }

    def dataset(self, part: Optional[str] = None):
        """The exported Hub folder as a ``datasets.DatasetDict``. Recipe V1 has one
        (``export/hub``); recipe V2 one per part (``items_raw_full``, ``items_lite``,
        ``items_prompts_lite``, ...): ``part`` names it, by default the last part, full."""
        folders = self._hub_folders()
        if not folders:
            raise PricerError(f"{self.path}: no exported Hub folder (did the export stage run?)")
        if part is None:
            full = [n for n in folders if n.endswith("_full")] or list(folders)
            part = full[-1]
        if part not in folders:
            raise PricerError(f"{self.path}: no exported part {part!r}; there are: {', '.join(folders)}")
        datasets = _import("datasets", "dataset")
        return datasets.load_dataset(str(folders[part]))

    def items(self):
        """Recipe V1's full items table (category, title, price, prompt, token count) as a
        ``pyarrow.Table``."""
        path = self.path / "export" / "items" / "items.parquet"
        if not path.is_file():
            raise PricerError(
                f"{path}: not there; recipe V2 publishes its items as Hub folders: use Run.dataset(part)"
            )
        _import("pyarrow", "items")
        import pyarrow.parquet as pq

        return pq.read_table(path)

    def __repr__(self) -> str:
        lines = [f"Run({str(self.path)!r})"] + [f"  {s.line}" for s in self.stages]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td style='text-align:right'>{:,}</td>"
            "<td style='text-align:right'>{:,}</td><td style='text-align:right'>{:,}</td>"
            "<td style='text-align:right'>{:.2f} s</td><td><code>{}</code></td></tr>".format(
                html.escape(s.stage),
                html.escape(s.outcome),
                s.rows_in,
                s.kept,
                s.rejected,
                s.wall_seconds,
                html.escape(str(s.dir)),
            )
            for s in self.stages
        )
        return (
            f"<p><b>pricer run</b> <code>{html.escape(str(self.path))}</code>: {html.escape(self._closing)}</p>"
            "<table><thead><tr><th>stage</th><th>outcome</th><th>in</th><th>kept</th>"
            f"<th>rejected</th><th>time</th><th>folder</th></tr></thead><tbody>{rows}</tbody></table>"
        )


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and shell.get_ipython() is not None and "IPKernelApp" in shell.get_ipython().config
    except Exception:
        return False


class _Lines:
    """A line per stage on stdout (Python's, so a notebook shows it)."""

    def __call__(self, kind: str, value: Any) -> None:
        if kind == "done":
            print(json.loads(value)["line"], flush=True)


class _Bar:
    """A tqdm bar over the stages."""

    def __init__(self, tqdm):
        self._tqdm = tqdm
        self._bar = None

    def __call__(self, kind: str, value: Any) -> None:
        if kind == "planned":
            self._bar = self._tqdm(total=len(value), desc="pricer", unit="stage")
        elif kind == "starting" and self._bar is not None:
            self._bar.set_postfix_str(value)
        elif kind == "done" and self._bar is not None:
            self._bar.update(1)
            if self._bar.n == self._bar.total:
                self._bar.set_postfix_str("done")
                self._bar.close()


def _progress(progress) -> Callable[[str, Any], None]:
    if callable(progress):
        return progress
    if progress is False:
        return lambda kind, value: None
    if _in_notebook():
        try:
            from tqdm.auto import tqdm

            return _Bar(tqdm)
        except ImportError:
            pass
    return _Lines()


def run(
    config: Config = "fixtures",
    out: Union[str, "os.PathLike[str]", None] = None,
    threads: Optional[int] = None,
    force: bool = False,
    from_stage: Optional[str] = None,
    progress: Union[bool, Callable[[str, Any], None], None] = None,
) -> Run:
    """Runs a recipe into a run folder and returns the ``Run``.

    ``config``: a bundled config's name (``pricer.configs()``), a path to a TOML file, or
    a dict with the same keys (docs/configuration.md). ``out``: the run folder (default
    ``runs/<name>``). ``threads``: worker threads (default one per core; output bytes do
    not depend on it). ``force``: run every stage even when up to date; ``from_stage``:
    that stage and every later one. ``progress``: a tqdm bar in a notebook when tqdm is
    installed, otherwise a line per stage; False for none, or a callable ``(kind,
    value)``. Stages already up to date are skipped; Ctrl-C (a notebook's stop button)
    stops the run within a second with KeyboardInterrupt, and the next run resumes it.
    """
    kind, value = _source(config)
    report = _pricer.run(
        kind,
        value,
        None if out is None else os.fspath(out),
        threads,
        force,
        from_stage,
        _progress(progress),
    )
    return Run(json.loads(report))


def status(run_folder: Union[str, "os.PathLike[str]"]) -> List[str]:
    """How each stage of a run folder stands now, as ``pricer status`` prints it."""
    return _pricer.status(os.fspath(run_folder))
