from django.core.management.base import BaseCommand

from yidi.integrations.jobs import deliver_due


class Command(BaseCommand):
    help = "发送发件箱中到期的消息（短信、邮件等），失败的按退避时间重试"

    def handle(self, *args, **options):
        self.stdout.write(str(deliver_due()))
