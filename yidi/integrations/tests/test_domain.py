"""The outbox's pure rules: the retry schedule, the final failure, how destinations and errors are shown."""

from datetime import timedelta

from yidi.integrations.domain import error_text, is_final_failure, mask_destination, retry_delay


def test_the_retry_schedule_backs_off_and_stays_at_six_hours():
    assert [retry_delay(n) for n in range(1, 7)] == [
        timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6),
        timedelta(hours=6),
    ]


def test_the_last_allowed_attempt_is_the_final_failure():
    assert [is_final_failure(n, 6) for n in (1, 5, 6, 7)] == [False, False, True, True]
    assert is_final_failure(1, 0)  # a nonsense setting still ends


def test_destinations_are_masked_by_kind():
    assert mask_destination("sms", "13805751234") == "138****1234"
    assert mask_destination("email", "chenjianguo@example.cn") == "c***@example.cn"
    assert mask_destination("webhook", "https://court.example.cn/hook?token=secret") == "https://court.example.cn/…"
    assert mask_destination("site", "") == ""


def test_an_error_never_carries_a_phone_or_an_address():
    error = OSError("recipient 13805751234 / chen@example.cn refused")
    assert error_text(error) == "OSError: recipient 138****1234 / c***@example.cn refused"
