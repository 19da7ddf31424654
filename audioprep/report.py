"""Result formatting every experiment shares: Markdown tables and a headless pyplot."""

from __future__ import annotations


def _cell(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def markdown_table(headers: list[str], rows: list[list]) -> str:
    """A GitHub Markdown table; floats are shown with 4 decimals, anything else with `str`."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def pyplot():
    """matplotlib.pyplot on the Agg backend, so figures are written without a screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
