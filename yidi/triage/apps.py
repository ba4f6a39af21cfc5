from django.apps import AppConfig


class TriageConfig(AppConfig):
    """The engine finds installed models under `$YIDI_DATA_DIR/triage/active/`, the same folder as
    `settings.DATA_DIR`, so nothing needs configuring at start-up."""

    name = "yidi.triage"
    verbose_name = "自动分级分类"
