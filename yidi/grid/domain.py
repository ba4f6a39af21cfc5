"""Rules of the grid workers' pages (pure: no Django, no clock, no I/O)."""

import re
import unicodedata
from enum import StrEnum

from yidi.accounts.domain import Role, UnitKind

MAX_PHOTOS = 9
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})


def is_grid_user(roles: frozenset[Role] | set[str], unit_kind: str) -> bool:
    """Who works on the grid pages and records grid reports, on-the-spot results and follow-ups.

    - a grid worker (网格员), whatever their unit;
    - the window clerk of a village committee (村调委会), who reports and mediates in the village the same way;
    - nobody else: a clerk of the centre or a township registers at the window (`case_register`).
    """
    return Role.GRID_WORKER in roles or (Role.REGISTRAR in roles and unit_kind == UnitKind.VILLAGE_COMMITTEE)


class OnSpotResult(StrEnum):
    """What happened on the spot after a patrol report."""

    RESOLVED = "resolved"  # 已当场化解: settled by an agreement, the matter is concluded at once
    ATTEMPTED = "attempted"  # 现场调解未化解: tried, not settled; the centre accepts and assigns it
    REPORTED = "reported"  # 仅上报: nothing tried on the spot


ON_SPOT_RESULT_LABELS = {
    OnSpotResult.RESOLVED: "已当场化解",
    OnSpotResult.ATTEMPTED: "现场调解未化解",
    OnSpotResult.REPORTED: "仅上报",
}

# The dashes people type or a scanner reads for the code's hyphen, after NFKC folding.
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc_]")
_CODE = re.compile(r"(?<!\d)(\d{6})-?(\d{4})-?(\d{6})(?!\d)")


def normalise_case_code(text: str) -> str:
    """The matter code in what was typed or scanned, as stored (`330681-2026-000123`); "" when there is none.

    - full-width digits and dashes (３３０６８１－２０２６) count as ASCII; spaces anywhere are dropped;
    - the hyphens may be missing (`3306812026000123`) or be other dashes;
    - a scanned link or text that contains the code yields the code.
    """
    folded = unicodedata.normalize("NFKC", text or "").lower()
    folded = _DASHES.sub("-", re.sub(r"\s+", "", folded))
    match = _CODE.search(folded)
    if match is None:
        return ""
    return "-".join(match.groups())
