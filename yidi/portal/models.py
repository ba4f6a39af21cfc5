"""The citizen portal's records: phone verification, the throttles that guard it, submissions and the private
tracking links. No clear phone number and no clear token is stored here: only keyed hashes."""

from django.db import models


class ChallengePurpose(models.TextChoices):
    SUBMIT = "submit", "网上反映"
    TRACK = "track", "查询进度"


class PhoneChallenge(models.Model):
    """A verification code sent (or, for tracking a matter the phone does not belong to, pretended to be sent)
    to a phone. The code itself is kept only as a keyed hash.

    Rate limits count these rows (per phone hash and per source address), so they are durable and shared by
    every server process; `PortalThrottle` rows serialise the count and hold the 30-minute lock.
    """

    phone_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=10, choices=ChallengePurpose.choices)
    case_code = models.CharField(max_length=24, blank=True)  # tracking: the matter asked about, as typed
    # False: a tracking request whose code and phone do not match a matter; no message went out and no code
    # verifies, but the person is told exactly what a genuine request is told (no enumeration).
    is_genuine = models.BooleanField(default=True)
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    killed_at = models.DateTimeField(null=True, blank=True)  # too many wrong entries
    source_key = models.CharField(max_length=64)

    class Meta:
        verbose_name = "手机验证码"
        verbose_name_plural = "手机验证码"
        indexes = [
            # the per-phone rate limits: codes sent to this phone in the last minute / hour
            models.Index(fields=["phone_hash", "created_at"], name="phone_challenge_phone"),
            # the per-address rate limit: codes requested from this address in the last hour
            models.Index(fields=["source_key", "created_at"], name="phone_challenge_source"),
        ]


class ThrottleKind(models.TextChoices):
    PHONE = "phone", "手机号"
    SOURCE = "source", "来源地址"


class PortalThrottle(models.Model):
    """One row per phone hash or source address: locked (`select_for_update`) while a code is requested or
    checked, so two parallel requests cannot both slip under a limit; `locked_until` is the 30-minute lock
    after too many wrong codes."""

    kind = models.CharField(max_length=10, choices=ThrottleKind.choices)
    key = models.CharField(max_length=64)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "验证频率控制"
        verbose_name_plural = "验证频率控制"
        constraints = [
            # serves the look-up of every code request and check: (kind, key)
            models.UniqueConstraint(fields=["kind", "key"], name="portal_throttle_unique"),
        ]


class MediationMode(models.TextChoices):
    ONLINE = "online", "线上调解"
    ON_SITE = "on_site", "到场调解"


class PortalSubmission(models.Model):
    """A matter submitted through the portal, with what the form asked beyond the matter itself. The nonce of
    the form makes a repeated POST return this matter instead of registering a second one."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="portal_submission")
    phone_hash = models.CharField(max_length=64)  # the verified phone (`lookup_hash(…, purpose="phone")`)
    mediation_mode = models.CharField("希望的调解方式", max_length=10, choices=MediationMode.choices)
    requests = models.TextField("诉求")
    submitted_at = models.DateTimeField("提交时间")
    nonce = models.CharField(max_length=64, unique=True)  # serves the duplicate-POST look-up

    class Meta:
        verbose_name = "网上反映"
        verbose_name_plural = "网上反映"


class TrackingLink(models.Model):
    """A private link to a matter's progress page (`/p/t/<token>/`): 32 random bytes, stored as SHA-256."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="tracking_links")
    token_hash = models.CharField(max_length=64, unique=True)  # serves the link look-up
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "进度查询链接"
        verbose_name_plural = "进度查询链接"
