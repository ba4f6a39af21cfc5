"""Staff confirmations and corrections of triage suggestions, as training rows (`yidi triage train
--from-feedback`). Imported lazily by the CLI; the rows live in `cases.TriageFeedback`."""

from collections.abc import Iterator


def feedback_rows(taxonomy: str) -> Iterator[tuple[str, str]]:
    """(text, label) for every matter whose label in `taxonomy` staff confirmed or corrected; the latest
    decision per matter wins."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yidi.settings")
    import django

    django.setup()
    from django.apps import apps

    feedback = apps.get_model("cases", "TriageFeedback")
    latest: dict[int, tuple[str, str]] = {}
    for case_id, text, label in (
        feedback.objects.filter(taxonomy=taxonomy).order_by("decided_at", "id")
        .values_list("case_id", "case__description", "chosen_label")
    ):
        latest[case_id] = (text, label)
    yield from latest.values()
