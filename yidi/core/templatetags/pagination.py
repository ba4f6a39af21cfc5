"""`{% for n in page_obj|elided_pages:page_range %}`: the page numbers a pagination bar shows — `page_range` when the
view gives one, else the first and last pages and two either side of the current one, with `Paginator.ELLIPSIS`
between — computed without walking every page (a county-wide list has 50,000)."""

from django import template

register = template.Library()


@register.filter
def elided_pages(page_obj, page_range=None):
    if page_range:
        return page_range
    return page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
