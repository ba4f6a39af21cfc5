"""Pages of 三级联动: the overview (platforms above and below), one platform's mirror and figures, a matter's
upstream exchange (with the cross-region transfer form) and the 上级交办 form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yidi.accounts import access
from yidi.cases.domain import STATUS_LABELS, CaseStatus, IllegalTransition, RuleViolation
from yidi.linkage import actions, queries
from yidi.linkage.domain import LinkageError, PeerDirection
from yidi.linkage.forms import AssignForm, TransferForm
from yidi.linkage.models import Peer


def _require(allowed: bool) -> None:
    if not allowed:
        raise Http404("页面不存在")


@login_required
def home(request):
    _require(queries.can_view_linkage(request.user))
    below = queries.visible_peers_below(request.user)
    return render(request, "linkage/home.html", {
        "above": Peer.objects.filter(direction=PeerDirection.ABOVE).order_by("region_code"),
        "below": queries.list_peer_rows(below),
        "assignments": queries.list_recent_assignments() if below else [],
        "transfers": queries.list_recent_transfers(),
        "outbox": queries.count_outbox(),
        "can_assign": queries.can_assign_down(request.user) and any(p.is_active for p in below),
    })


@login_required
def peer_detail(request, peer_id: int):
    _require(queries.can_view_linkage(request.user))
    peer = queries.get_peer_below_for_user(request.user, peer_id)
    _require(peer is not None)
    status = request.GET.get("status", "")
    if status not in CaseStatus.__members__.values():
        status = ""
    page = Paginator(queries.list_reported_cases(peer, status=status), 30).get_page(request.GET.get("page"))
    return render(request, "linkage/peer.html", {
        "peer": peer, "page_obj": page, "status": status, "figures": queries.list_reported_figures(peer),
        "statuses": [(s.value, STATUS_LABELS[s]) for s in CaseStatus],
        "querystring": f"status={status}" if status else "",
    })


def _case_page(request, case, form, status=200):
    exchange = queries.case_exchange(case)
    can_transfer = (queries.can_request_transfer(request.user) and case.status == CaseStatus.REGISTERED
                    and bool(queries.active_peers(PeerDirection.ABOVE)))
    return render(request, "linkage/case.html", {"case": case, "form": form, "can_transfer": can_transfer,
                                                 **exchange}, status=status)


@login_required
def case_exchange(request, code: str):
    _require(queries.can_read_cases(request.user))
    case = access.get_case_for_user(request.user, code)
    return _case_page(request, case, TransferForm())


@login_required
@require_POST
def case_transfer(request, code: str):
    _require(queries.can_request_transfer(request.user))
    case = access.get_case_for_user(request.user, code)
    form = TransferForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, form, status=400)
    try:
        actions.do_request_transfer(code, actor=request.user, **form.cleaned_data)
    except LinkageError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return _case_page(request, case, form, status=400)
    except (access.ActionDenied, IllegalTransition, RuleViolation) as error:
        form.add_error(None, str(error))
        return _case_page(request, case, form, status=403 if isinstance(error, access.ActionDenied) else 409)
    messages.success(request, f"事项 {code} 已不予受理，并报请上级平台移交{form.cleaned_data['to_region_name']}")
    return redirect("linkage_case", code=code)


@login_required
def assign(request):
    _require(queries.can_assign_down(request.user))
    peers = [peer for peer in queries.visible_peers_below(request.user) if peer.is_active]
    form = AssignForm(request.POST or None, peers=peers)
    if request.method == "POST" and form.is_valid():
        try:
            assignment = actions.do_assign_down(form.cleaned_data["peer"], actor=request.user, matter=form.matter(),
                                                note=form.cleaned_data["note"])
        except LinkageError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"已向{assignment.peer.name}交办（编号 {assignment.pk}），对方登记后将回报事项编码")
            return redirect("linkage_home")
    return render(request, "linkage/assign.html", {"form": form, "peers": peers},
                  status=400 if request.method == "POST" else 200)
