"""DeepASMR's "platform": a searchable SQLite catalogue of triggers in a folder of recordings.

`recordings` holds a row per file: its content hash, the model, every window's class probabilities
(float16, 18 bytes a window for nine classes) with the windowing that places them in time, and the
`audioprep.quality` flags (short, silent, truncated); `segments(recording, start, end, label,
confidence)` merges adjacent windows of one label, leaving out windows whose top probability is under
the recording's threshold, so `catalog remerge --threshold T` redoes the segments without the model.
Segments come from the stored float16 values, so a re-merge at the same threshold gives the same
segments. `segment_embeddings` keeps each segment's mean penultimate-layer vector (unit length,
float16) for the app's "more like this"; a re-merge, which runs without the model, leaves the new
segments without one. A query above confidence 0 leaves out the segments of short or silent
recordings, whose confidence is no evidence (`queries`).

Each recording keeps its abstain threshold and label and which windows were digital silence, so a
re-merge gives the same `other` / `unsure` / `silent` segments (a silent window's segment is `silent`
with confidence 0, never a trigger), and YAMNet's AudioSet tag track (`recording_tags`), from which
every segment gets its best AudioSet classes (`segment_tags`, searchable as text: `query(tag=...)`).

Each recording is written in one transaction, an upsert, so an interrupted run keeps every finished
recording, a recording whose decoding fails keeps nothing, and two catalogues of one folder never
collide; a re-run skips recordings whose hash and model are unchanged. The database is in WAL mode
with a busy timeout: `catalog query` reads while a catalogue is being written, and a second writer
waits for its turn. `--workers N` classifies N files at once in worker processes; only the parent
writes, and a worker that dies costs only the file it held (`pool`).

Modules: `schema` (tables, migrations), `db` (connect, write transactions), `records` (store,
re-merge), `pool` (classifying in workers), `build` (cataloguing a folder), `queries`, `cli`.
"""

from asmr_classify.catalog.build import audio_files, build_catalog
from asmr_classify.catalog.db import connect, write
from asmr_classify.catalog.queries import Hit, export_csv, labels, query, segment_tags
from asmr_classify.catalog.records import remerge, store
from asmr_classify.catalog.schema import SCHEMA, SCHEMA_VERSION
from audioprep.io import file_sha256 as sha256  # the content hash a recording is stored under

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Hit", "audio_files", "build_catalog", "connect", "export_csv", "labels",
           "query", "remerge", "segment_tags", "sha256", "store", "write"]
