"""The FastAPI scoring service. Import through :func:`custseg.api.create_app`.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint annotations at run
time, and the request type is built per model inside ``create_app``.
"""

import hmac
import json
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_json

from custseg import __version__
from custseg.api.schemas import (
    ID_FIELD,
    Assignment,
    FeatureInfo,
    Health,
    HTTPValidationError,
    ModelInfo,
    build_schemas,
)
from custseg.outputs.model_file import load_model
from custseg.scoring.scorer import SegmentModel

DEFAULT_MAX_BATCH = 10_000
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
SMALL_BATCH = 8  # up to this many customers are scored in plain Python (no NumPy overhead)


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413, before parsing."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
                if length < 0 or length > self.max_bytes:
                    return await self._refuse(send, length)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, detail=self._message(seen))
            return message

        return await self.app(scope, limited, send)

    def _message(self, length: int) -> str:
        size = "an invalid Content-Length" if length < 0 else f"{length:,} bytes"
        return (
            f"Request body of {size} exceeds the limit of {self.max_bytes:,} bytes; "
            "send smaller batches"
        )

    async def _refuse(self, send, length: int) -> None:
        body = json.dumps({"detail": self._message(length)}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(
    model: SegmentModel | str | Path,
    *,
    token: str | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """Build the scoring service for one model.

    Parameters
    ----------
    model : SegmentModel or path
        The model (see :func:`custseg.load_model`), or the path of its file. The model is fixed
        when the app is built: no request can name a file.
    token : str, optional
        When given, ``/v1/*`` requires ``Authorization: Bearer <token>`` (401 otherwise).
        ``/healthz`` and the docs stay open.
    max_batch : int
        Most customers in one request (more: 422).
    max_body_bytes : int
        Largest request body (more: 413).

    Returns
    -------
    fastapi.FastAPI
    """
    if not isinstance(model, SegmentModel):
        model = load_model(model)
    schemas = build_schemas(model, max_batch)
    scorer = model.scorer
    numeric = list(model.plan.numeric)
    categorical = list(model.plan.categorical)
    has_id = ID_FIELD not in model.plan.columns
    # a row's numeric values, in model order
    pick = itemgetter(*numeric) if numeric else (lambda _customer: ())
    names = scorer.names
    expected = token.encode() if token else None

    app = FastAPI(
        title="custseg scoring service",
        version=__version__,
        description=(
            f"Assigns customers to the {model.k} segments of a fitted custseg model "
            f"(features: {', '.join(model.plan.columns)}). "
            + ("Send `Authorization: Bearer <token>` to /v1/*." if token else "")
        ),
    )
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    bearer = HTTPBearer(auto_error=False, description="The token from CUSTSEG_API_TOKEN.")

    async def authorised(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if expected is None:
            return
        given = credentials.credentials.encode() if credentials else b""
        if not hmac.compare_digest(given, expected):
            raise HTTPException(
                401,
                detail="Missing or wrong bearer token; send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )

    guard = [Depends(authorised)] if expected is not None else []

    def score(items: list[dict], batch: bool) -> list[dict[str, Any]]:
        if len(items) <= SMALL_BATCH and not categorical:
            labels, dist = scorer.score_rows([[c[f] for f in numeric] for c in items])
            labels, dist = np.asarray(labels), np.asarray(dist)
        else:
            num = np.array(list(map(pick, items)), dtype=float).reshape(len(items), len(numeric))
            cats = [[c[f] for f in categorical] for c in items] if categorical else None
            labels, dist = scorer.score(num, cats)
        bad = np.flatnonzero(~np.isfinite(dist))
        if len(bad):
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", int(i)) if batch else ("body",),
                        "msg": "Value error, feature values too large to score (the distance "
                        "overflows); check their units",
                        "input": None,
                    }
                    for i in bad[:20]
                ]
            )
        rows = zip(labels.tolist(), dist.tolist(), strict=True)
        ids = [c.get(ID_FIELD) for c in items] if has_id else [None] * len(items)
        return [
            {"segment": s, "segment_name": names[s], "distance": d}
            if i is None
            else {"id": i, "segment": s, "segment_name": names[s], "distance": d}
            for i, (s, d) in zip(ids, rows, strict=True)
        ]

    request_schema = TypeAdapter(schemas.body).json_schema(
        ref_template="#/components/schemas/{model}"
    )
    definitions = request_schema.pop("$defs", {})

    @app.post(
        "/v1/assign",
        dependencies=guard,
        response_model=None,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": request_schema}},
            }
        },
        responses={
            200: {
                "description": "The segment of the customer (an object), or of each customer of "
                "a batch (an array, same order).",
                "model": Assignment | list[Assignment],
            },
            401: {"description": "Missing or wrong bearer token."},
            413: {"description": "Request body too large."},
            422: {
                "description": "A field is missing, has the wrong type, or is not finite.",
                "model": HTTPValidationError,
            },
        },
        summary="Assign one customer (an object) or a batch (an array of objects)",
    )
    async def assign(request: Request) -> Response:
        # The body is parsed and validated in one pass by pydantic-core (no json.loads, no
        # FastAPI body machinery): the service's hot path. An array is a batch.
        body = await request.body()
        adapter = schemas.many if body.lstrip()[:1] == b"[" else schemas.one
        try:
            customers = adapter.validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError(
                [dict(e) | {"loc": ("body", *e["loc"])} for e in exc.errors()]
            ) from None
        if isinstance(customers, list):
            payload: Any = score(customers, batch=True) if customers else []
        else:
            payload = score([customers], batch=False)[0]
        return Response(to_json(payload), media_type="application/json")

    def openapi() -> dict:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            spec.setdefault("components", {}).setdefault("schemas", {}).update(definitions)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi

    info = _model_info(model, schemas.example)

    @app.get("/v1/model", dependencies=guard, response_model=ModelInfo)
    async def model_info() -> JSONResponse:
        """Features, segments with their profiles, and training metadata."""
        return JSONResponse(info)

    health = Health(
        segments=model.k,
        features=model.plan.columns,
        model_created=model.metadata.get("created"),
        scorer="numpy" if scorer.exact else "pipeline",
    ).model_dump()

    @app.get("/healthz", response_model=Health)
    async def healthz() -> JSONResponse:
        """Liveness: the model is loaded and the service answers."""
        return JSONResponse(health)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            err = {k: v for k, v in err.items() if k in ("type", "loc", "msg", "input", "ctx")}
            err["loc"] = _field_loc(err.get("loc", ()))
            if "ctx" in err:
                err["ctx"] = {k: str(v) for k, v in err["ctx"].items()}
            errors.append(err)
        return JSONResponse({"detail": _jsonable(errors)}, status_code=422)

    app.state.model = model
    return app


def _field_loc(loc) -> list:
    """``["body", index?, field]``: drop the union-branch names pydantic appends after a field
    (``"constrained-str"``, ``"int"``): noise to a client."""
    out, field_seen = [], False
    for i, part in enumerate(loc):
        if i == 0 or (isinstance(part, int) and not field_seen):
            out.append(part)
        elif not field_seen:
            out.append(part)
            field_seen = True
    return out


def _jsonable(value):
    """Replace what JSON cannot hold (NaN, bytes, ...) in echoed inputs."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _model_info(model: SegmentModel, example: dict) -> dict:
    quantiles = model.training.get("quantiles", {})
    categories = model.training.get("categories", {})
    features = []
    for f in model.plan.numeric:
        q = quantiles.get(f)
        features.append(
            FeatureInfo(
                name=f,
                kind="numeric",
                role=model.roles.get(f),
                training={"deciles": q, "median": q[5] if q else None},
            )
        )
    for f in model.plan.categorical:
        features.append(
            FeatureInfo(
                name=f,
                kind="categorical",
                role=model.roles.get(f),
                training={"categories": categories.get(f, {})},
            )
        )
    shares = model.training.get("shares", {})
    segments = [p | {"training_share": shares.get(str(p["id"]))} for p in model.profiles]
    info = ModelInfo(
        format_version=model.format_version,
        features=features,
        segments=segments,
        metadata=model.metadata,
        notes=model.notes,
        example=example,
    )
    return _jsonable(info.model_dump())
