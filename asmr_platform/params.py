"""The app's limits and defaults, in one place: what a page of results holds, how much audio an upload,
an image or a generation may take."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeParams:
    """`upload_max_mb`: an upload larger than this is refused before it is decoded (--max-upload-mb).
    `context_seconds`: how much of the recording's per-window confidence is shown each side of a segment;
    `max_points`: at most this many windows of it (a long segment's are thinned evenly).
    `image_seconds`: a segment's mel image shows at most its first this many seconds.
    `generate_seconds`: vary and blend use at most this much of a segment (`asmr_generate vary`'s default).
    `upload_overlap` and `catalog_threshold`: an upload is classified and catalogued as `catalog` does by default.
    """

    upload_max_mb: float = 200.0
    page_size: int = 25
    max_page_size: int = 500
    similar_k: int = 10
    max_similar_k: int = 100
    context_seconds: float = 15.0
    max_points: int = 600
    image_seconds: float = 10.0
    generate_seconds: float = 4.0
    max_variations: int = 8
    max_samples: int = 8
    upload_overlap: float = 0.0
    catalog_threshold: float = 0.0

    @property
    def upload_max_bytes(self) -> int:
        return int(self.upload_max_mb * (1 << 20))
