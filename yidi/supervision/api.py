"""The supervision part of the native API (/api/v1/): mounted in `yidi/api.py`."""

from ninja import Router

router = Router(tags=["风险预警与专项治理"])
