"""The analytics part of the native API (/api/v1/): mounted in `yidi/api.py`."""

from ninja import Router

router = Router(tags=["统计分析与考核"])
