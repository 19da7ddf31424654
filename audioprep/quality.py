"""Whether a model's output on a recording can mean much: too short, digital silence, or cut short.

`audioprep.stream.AudioStream` notes the peak magnitude and the seconds it decoded as it goes, so the
check costs no second pass and no memory; `check_quality` turns its status into the flags `predict`,
`lean tag` and `catalog` report (one `warning: PATH: ...` line each) and the catalogue stores.
"""

from __future__ import annotations

from dataclasses import dataclass

SHORT_FRACTION = 0.1  # audio under this share of the model's window is mostly padding
SILENCE_PEAK = 2.0**-15  # at most one 16-bit step: no signal a recording could hold
SHORT, SILENT, TRUNCATED = "short", "silent", "truncated"


@dataclass(frozen=True)
class Quality:
    """What `check_quality` found for one file; `warnings` are the lines to print, `flags` the names to store."""

    path: str
    seconds: float
    window_seconds: float
    peak: float
    truncated_note: str | None = None

    @property
    def short(self) -> bool:
        return self.seconds < SHORT_FRACTION * self.window_seconds

    @property
    def silent(self) -> bool:
        return self.peak <= SILENCE_PEAK

    @property
    def flags(self) -> tuple[str, ...]:
        found = {SHORT: self.short, SILENT: self.silent, TRUNCATED: self.truncated_note is not None}
        return tuple(name for name, present in found.items() if present)

    @property
    def warnings(self) -> list[str]:
        lines = []
        if self.short:
            lines.append(f"{self.path}: too short to classify: {self.seconds:.3g} s of audio, under a tenth "
                         f"of the model's {self.window_seconds:.3g} s window")
        if self.silent:
            lines.append(f"{self.path}: digital silence: no sample above {SILENCE_PEAK:.1e} (one 16-bit step)")
        if self.truncated_note is not None:
            lines.append(self.truncated_note)
        return lines


def check_quality(status, window_seconds: float) -> Quality:
    """The quality of a decoded file from its `audioprep.stream.DecodeStatus` and the model's window."""
    return Quality(status.path, status.decoded_seconds, window_seconds, status.peak,
                   status.note() if status.truncated else None)
