from django.core.management.base import BaseCommand

from yidi.workflow.jobs import sweep_deadlines


class Command(BaseCommand):
    help = "执行一次期限巡检：预警、督办、提级。可重复执行，不会重复督办。"

    def handle(self, *args, **options):
        self.stdout.write(str(sweep_deadlines()))
