from django.core.management.base import BaseCommand, CommandError

from yidi.cases.domain import RequestType
from yidi.linkage.actions import do_assign_down
from yidi.linkage.domain import LinkageError, PeerDirection
from yidi.linkage.models import Peer


class Command(BaseCommand):
    requires_system_checks: list = []
    help = "向下级平台交办事项（上级交办）：yidi manage linkage_assign --to 330681 --title … --description … --region 330681…"

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, help="下级平台的区划代码")
        parser.add_argument("--title", required=True)
        parser.add_argument("--description", required=True)
        parser.add_argument("--region", required=True, help="发生地区划代码（须在该县辖区内）")
        parser.add_argument("--request-type", default=RequestType.MEDIATION.value, choices=[t.value for t in RequestType])
        parser.add_argument("--address", default="")
        parser.add_argument("--applicant", default="", help="申请人姓名")
        parser.add_argument("--applicant-phone", default="")
        parser.add_argument("--note", default="", help="交办要求")

    def handle(self, *args, **options):
        peer = Peer.objects.filter(direction=PeerDirection.BELOW, region_code=options["to"]).first()
        if peer is None:
            raise CommandError(f"没有区划代码为“{options['to']}”的下级平台")
        parties = []
        if options["applicant"]:
            parties.append({"role": "applicant", "name": options["applicant"], "kind": "natural",
                            "phone": options["applicant_phone"]})
        matter = {"title": options["title"], "description": options["description"], "region": options["region"],
                  "request_type": options["request_type"], "address": options["address"], "parties": parties}
        try:
            assignment = do_assign_down(peer.pk, actor=None, matter=matter, note=options["note"])
        except LinkageError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"已向{peer.name}交办，编号 {assignment.pk}")
