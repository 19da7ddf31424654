"""Settings of what every model shares through YAMNet's AudioSet head: tags beside labels, and abstaining."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AbstainParams:
    """"None of these": a window whose top probability is under a model's abstain threshold is `other`.

    `train` calibrates the threshold on validation windows (asmr_audioset.abstain: the threshold that keeps
    `keep` of the correctly classified ones) and stores it in params.json as `abstain_threshold`; a model
    without one uses `default_threshold` (a 2-class softmax never falls under 0.5, so it never abstains).
    """

    default_threshold: float = 0.5
    keep: float = 0.95


@dataclass(frozen=True)
class TagParams:
    """YAMNet's AudioSet tags beside any model's labels: `top` shown per window or segment, `stored` per
    catalogue segment (what `catalog query --tag` searches), `keep` per YAMNet window (a span's tags are
    the overlap-weighted mean of its windows' kept scores), and the overlap of YAMNet's own windows when
    it runs beside another model (0: back-to-back, 0.975 s each)."""

    top: int = 3
    stored: int = 5
    keep: int = 10
    overlap: float = 0.0


ABSTAIN = AbstainParams()
TAGS = TagParams()
