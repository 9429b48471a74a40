"""yuefu.pipeline: stages registered by name, pipeline files (TOML) and the runner.

>>> from yuefu.pipeline import list_stages
>>> [s.name for s in list_stages()][:2]
['example', 'import']
"""

from yuefu.pipeline.runner import Pipeline, RunResult, load_pipeline, run_pipeline
from yuefu.pipeline.stage import (
    ProgressEvent,
    StageContext,
    StageInfo,
    get_stage,
    list_stages,
    stage,
)

__all__ = [
    "Pipeline",
    "ProgressEvent",
    "RunResult",
    "StageContext",
    "StageInfo",
    "get_stage",
    "list_stages",
    "load_pipeline",
    "run_pipeline",
    "stage",
]
