"""Password hashing: Argon2id with fixed, documented costs, and a bound on how many hashes one process computes
at once (docs/decisions/0004-password-hashing-costs.md).

Django's own Argon2 hasher takes 100 MiB and 8 lanes a hash. When a shift starts and forty staff log in
within a minute, a server process with 16 threads computed up to 16 of them together: 900 MB of memory for one
worker (issue #10's limit is 400 MB) and every log-in waiting 7–14 s for its turn on two cores. Here:

- the costs are the first configuration the OWASP Password Storage Cheat Sheet recommends for Argon2id:
  46 MiB of memory, one pass, one lane (`time_cost=1, memory_cost=47104, parallelism=1`), about 50 ms here;
- at most `YIDI_PASSWORD_HASH_SLOTS` hashes (default 2, the machine's cores) run at once in a process; the
  others wait their turn. Each hash is computed outside the GIL on one core, so more at once would only share
  the same cores and hold more memory.

A password stored with other costs (Django's defaults, an older release) still verifies; on its next correct
log-in Django stores it again with these costs (`must_update`), and the password's age is kept.
"""

import threading

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

DEFAULT_SLOTS = 2
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def hashing_slots() -> threading.BoundedSemaphore:
    """The process's semaphore of concurrent password hashes (made on first use, sized from the settings)."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, int(getattr(settings, "YIDI_PASSWORD_HASH_SLOTS",
                                                                   DEFAULT_SLOTS))))
        return _slots


class BoundedArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with fixed costs; encode and verify take one of the process's hashing slots."""

    # the same algorithm name as Django's: hashes stored by either verify with either
    time_cost = 1
    memory_cost = 47104  # KiB: 46 MiB
    parallelism = 1

    def encode(self, password, salt):
        with hashing_slots():
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with hashing_slots():
            return super().verify(password, encoded)
