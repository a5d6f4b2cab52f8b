"""Where a job runs: the bounded-memory local runner, Beam runner options (Direct, Dask), the
audit's phases on Dask, the worker process, and the execution layer every job uses."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "run_local": "local",
    "resolve_runner": "options",
    "pipeline_options": "options",
    "run_pipeline": "execution",
    "merge_shards": "execution",
    "job_output": "execution",
    "run_phases": "dask_phases",
})
