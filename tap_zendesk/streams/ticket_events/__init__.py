"""Everything read from the incremental ticket events export: its one reader per run
(reader.py) and the streams each page feeds (audits, comments, field history, raw events)."""
