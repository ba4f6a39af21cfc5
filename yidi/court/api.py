"""The court part of the native API (/api/v1/): mounted in `yidi/api.py`."""

from ninja import Router

router = Router(tags=["诉调对接"])
