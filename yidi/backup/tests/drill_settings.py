"""Settings of the drill's processes: the production settings (`yidi.settings`, files on disk, the database worker
backend) with this app and its two settings, for as long as `yidi.settings` does not have them yet."""

from yidi.settings import *  # noqa: F403
from yidi.settings import INSTALLED_APPS, env

if "yidi.backup" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "yidi.backup"]
YIDI_BACKUP_DIR = env("YIDI_BACKUP_DIR")
YIDI_BACKUP_PG_BIN_DIR = env("YIDI_BACKUP_PG_BIN_DIR")
