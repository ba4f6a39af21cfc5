"""The native API, /api/v1/: mounts each app's ninja `Router`; nothing else lives here (STYLE §1).

OpenAPI at /api/v1/openapi.json, browsable docs at /api/v1/docs (Swagger UI from ninja's own static files, no
CDN; `ninja` is in INSTALLED_APPS for that). Errors: `yidi.core.api_errors`. Authentication: bearer tokens of
integration clients (`yidi.accounts.api_auth`), so no CSRF (no cookie is ever read); each client is throttled to
its rate on every router.
"""

from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from yidi.accounts.api_auth import client_throttle
from yidi.analytics.api import router as analytics_router
from yidi.campaigns.api import router as campaigns_router
from yidi.cases.api import reference_router
from yidi.cases.api import router as cases_router
from yidi.core.api_errors import install_error_handlers
from yidi.court.api import router as court_router
from yidi.evaluation.api import router as evaluation_router
from yidi.linkage.api import router as linkage_router
from yidi.mediation.api import router as mediation_router
from yidi.supervision.api import router as supervision_router

api = NinjaAPI(
    title="一地 · 矛调中心接口",
    version="1.0.0",
    description="集成客户端接口：Bearer 令牌认证，按单位和权限范围授权。错误均为 JSON：稳定的 code 与中文 message。",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs=Swagger(settings={"validatorUrl": None}),  # no badge fetched from validator.swagger.io
    throttle=client_throttle(),  # every client's rate, whichever router it calls (429 `rate_limited`)
)
install_error_handlers(api)
api.add_router("/", cases_router)
api.add_router("/reference", reference_router)
api.add_router("/", mediation_router)
api.add_router("/", evaluation_router)
api.add_router("/court", court_router)
api.add_router("/linkage", linkage_router)
api.add_router("/analytics", analytics_router)
api.add_router("/supervision", supervision_router)
api.add_router("/", campaigns_router)
