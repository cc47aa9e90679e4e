"""The text table `evaluate --baselines` prints: one row per model, the same metrics."""

from __future__ import annotations

# (metric key, column heading)
COLUMNS = (
    ("recall@10", "Recall@10"),
    ("ndcg@10", "NDCG@10"),
    ("precision@10", "Prec@10"),
    ("recall@20", "Recall@20"),
    ("ndcg@20", "NDCG@20"),
    ("precision@20", "Prec@20"),
    ("coverage@20", "Cover@20"),
    ("arp@20", "ARP@20"),
    ("miscalibration@20", "Miscal@20"),
)


def model_label(row: dict) -> str:
    """The model's name, with EASE's chosen lambda and a calibrated list's strength."""
    label = row["model"]
    if row.get("lambda") is not None:
        label += f" (lambda {row['lambda']:g})"
    if row.get("calibration"):
        label += f" (calibrated {row['calibration']:g})"
    return label


def table_lines(report: dict) -> list[str]:
    """The lines of `evaluation.evaluate_with_baselines`'s report as a table."""
    rows = report["models"]
    width = max([len("model"), *(len(model_label(row)) for row in rows)])
    lines = [
        f"{report['dataset']}: {report['test_users']} test users, {report['test_positives']} test positives"
        f" ({report['protocol']}), every model on the same split",
        f"{'model':<{width}}" + "".join(f"{heading:>11}" for _, heading in COLUMNS) + f"{'fit s':>9}",
    ]
    for row in rows:
        cells = "".join(
            f"{row['metrics'][key]:>11.1f}" if key == "arp@20" else f"{row['metrics'][key]:>11.4f}"
            for key, _ in COLUMNS
        )
        lines.append(f"{model_label(row):<{width}}{cells}{row['fit_seconds']:>9.1f}")
    return lines + list(report["skipped"])
