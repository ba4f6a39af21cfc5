"""Fault hooks for the `yidi` processes the reliability tests start (on their PYTHONPATH, so Python loads this
module at start-up). Each hook is off unless its variable is set:

- `H10_FAULT_NOW` (ISO datetime): `yidi.core.clock.now()` returns this moment (the sweep runs "at" it);
- `H10_FAULT_HANG_FILE` (a path): when the deadline sweep is about to write its timeline rows — its clocks
  already updated and its 督办 cards inserted, in its open transaction — the process writes this file and
  sleeps, so the test can kill it there.
"""

import importlib.abc
import importlib.util
import os
import sys
import time

NOW = os.environ.get("H10_FAULT_NOW")
HANG_FILE = os.environ.get("H10_FAULT_HANG_FILE")


def _patch_clock(module) -> None:
    from datetime import datetime

    moment = datetime.fromisoformat(NOW)
    module.now = lambda: module._override.get() or moment


def _patch_bulk(module) -> None:
    insert_values = module.insert_values

    def hanging_insert_values(model, columns, rows, *args, **kwargs):
        if model.__name__ == "CaseEvent" and rows:
            with open(HANG_FILE, "w") as marker:
                marker.write(str(len(rows)))
            while True:
                time.sleep(60)
        return insert_values(model, columns, rows, *args, **kwargs)

    module.insert_values = hanging_insert_values


PATCHES = {name: patch for name, patch, wanted in (
    ("yidi.core.clock", _patch_clock, NOW), ("yidi.core.bulk", _patch_bulk, HANG_FILE)) if wanted}


class _Loader(importlib.abc.Loader):
    def __init__(self, loader, patch):
        self.loader, self.patch = loader, patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        spec.loader = _Loader(spec.loader, PATCHES[name])
        return spec


if PATCHES:
    sys.meta_path.insert(0, _Finder())
