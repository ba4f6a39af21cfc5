"""The triage engine: classification, risk grading, fact extraction and duplicate ranking — pure Python.

This package imports no Django and nothing from `yidi` except `yidi.core.taxonomies`. Models are loaded once per
process; call `configure(data_dir=settings.DATA_DIR)` once at start-up to use the deployment's installed models.
"""

from yidi.triage.engine.analysis import (
    Analysis,
    DerivedLabel,
    TriageContext,
    TriageInputError,
    analyse,
    classify,
)
from yidi.triage.engine.duplicates import (
    DuplicateCandidate,
    DuplicateMatch,
    DuplicateQuery,
    lsh_keys,
    rank_duplicates,
    text_similarity,
)
from yidi.triage.engine.extract import Facts, extract, is_valid_id_number
from yidi.triage.engine.grading import Grade, GradingRulesError, Signal, grade, load_rules
from yidi.triage.engine.model import Alternative, Classifier, LinearTextModel, ModelFormatError, Prediction
from yidi.triage.engine.registry import active_models, get_model, install_model, load_model
from yidi.triage.engine.resources import configure
from yidi.triage.engine.text import cut

__all__ = [
    "Alternative",
    "Analysis",
    "Classifier",
    "DerivedLabel",
    "DuplicateCandidate",
    "DuplicateMatch",
    "DuplicateQuery",
    "Facts",
    "Grade",
    "GradingRulesError",
    "LinearTextModel",
    "ModelFormatError",
    "Prediction",
    "Signal",
    "TriageContext",
    "TriageInputError",
    "active_models",
    "analyse",
    "classify",
    "configure",
    "cut",
    "extract",
    "get_model",
    "grade",
    "install_model",
    "is_valid_id_number",
    "load_model",
    "load_rules",
    "lsh_keys",
    "rank_duplicates",
    "text_similarity",
]
