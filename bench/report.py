"""One benchmark table: figure, value, baseline, ratio, target, pass/fail."""

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Row:
    group: str
    figure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self):
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline


@dataclass
class Report:
    rows: list = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def add(
        self, group, figure, value, unit, *, baseline=None, baseline_label="", target="", passed=None, note=""
    ):
        """Record one figure. ``passed`` is None for figures without a target."""
        row = Row(group, figure, value, unit, baseline, baseline_label, target, passed, note)
        self.rows.append(row)
        print(
            f"  {group}: {figure} = {value:,.3f} {unit}"
            + (f" (baseline {baseline:,.3f}, ratio {row.ratio:.2f})" if row.ratio is not None else "")
            + (f" target {target}: {'PASS' if passed else 'FAIL'}" if passed is not None else ""),
            flush=True,
        )
        return row

    def table(self):
        header = ["group", "figure", "value", "baseline", "ratio", "target", "result"]
        lines = []
        for r in self.rows:
            lines.append(
                [
                    r.group,
                    r.figure,
                    f"{r.value:,.3f} {r.unit}",
                    "" if r.baseline is None else f"{r.baseline:,.3f} ({r.baseline_label})",
                    "" if r.ratio is None else f"{r.ratio:.2f}×",
                    r.target,
                    "" if r.passed is None else ("pass" if r.passed else "FAIL"),
                ]
            )
        widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=False)]
        fmt = " | ".join(f"{{:<{w}}}" for w in widths)
        out = [fmt.format(*header), "-+-".join("-" * w for w in widths)]
        out += [fmt.format(*line) for line in lines]
        return "\n".join(out)

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = [dict(asdict(r), ratio=r.ratio) for r in self.rows]
        path.write_text(json.dumps({"started": self.started, "rows": data}, indent=2))
        return path
