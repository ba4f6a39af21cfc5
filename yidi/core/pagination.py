"""A paginator that counts at most a cap of rows, for lists that may span a whole county's million matters.

`Paginator.count` runs `COUNT(*)` over every matching row (a fifth of a second at a million, on every page view)
only to print the total and the last page number. `CappedPaginator` counts over `LIMIT cap + 1` instead: exact up
to the cap, "cap+" beyond it (`count_is_capped`), and the pages up to the cap's; a user narrows the filters to
reach rows further down, as the page tells them.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

LIST_COUNT_CAP = 10_000


def capped_count(queryset, cap: int = LIST_COUNT_CAP) -> tuple[int, bool]:
    """(the number of rows up to `cap`, whether there are more): one COUNT over a `LIMIT cap + 1` subquery."""
    counted = queryset.order_by()[: cap + 1].count()
    return min(counted, cap), counted > cap


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int = LIST_COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @property
    def count_is_capped(self) -> bool:
        return self._counted[1]
