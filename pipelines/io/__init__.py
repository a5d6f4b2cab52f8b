"""Reading inputs (JSONL, compressed, Parquet; byte ranges), the record and quarantine row shapes,
writing shards, cached arrays and the bundled sample corpora."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "ReadRecords": "beam_io",
    "WriteShards": "beam_io",
    "read_jsonl_dir": "beam_io",
    "InputError": "beam_io",
    "open_input": "input_files",
    "quarantine_row": "records",
    "id_key": "records",
    "synthetic_corpus": "samples",
    "sample_corpus": "samples",
})
