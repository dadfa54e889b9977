"""Pydantic schemas of the scoring service, built for one model (its features are the fields)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

if TYPE_CHECKING:
    from ..scoring import SegmentModel

ID_FIELD = "id"
MAX_ABS = 1e15  # numeric inputs beyond this are refused (422) rather than overflowing


class Assignment(BaseModel):
    """One customer's segment."""

    id: str | int | None = Field(None, description="The customer's id, when the request gave one.")
    segment: int = Field(description="Segment id (0 is the largest segment at training).")
    segment_name: str
    distance: float = Field(description="Distance to the segment centre, in model units.")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where: ["body", <index in a batch>, <field>].')
    msg: str
    type: str
    input: Any = None


class HTTPValidationError(BaseModel):
    detail: list[FieldError]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    segments: int
    features: list[str]
    model_created: str | None
    scorer: Literal["numpy", "pipeline"]


class FeatureInfo(BaseModel):
    name: str
    kind: Literal["numeric", "categorical"]
    role: str | None
    training: dict[str, Any] = Field(
        description="Numeric: deciles and median; categorical: share of each category."
    )


class ModelInfo(BaseModel):
    format_version: int
    features: list[FeatureInfo]
    segments: list[dict[str, Any]] = Field(description="Each segment's profile and training share.")
    metadata: dict[str, Any]
    notes: list[str]
    example: dict[str, Any] = Field(description="A request body for /v1/assign.")


@dataclass
class Schemas:
    """The request types of one model."""

    customer: type[BaseModel]
    body: Any  # one customer or a list of them (for the OpenAPI schema)
    one: TypeAdapter  # validates one customer
    many: TypeAdapter  # validates a batch
    fields: dict[str, str]  # model feature -> python attribute
    example: dict[str, Any]


def build_schemas(model: SegmentModel, max_batch: int) -> Schemas:
    """A ``Customer`` model with one required field per model feature, and the request body type.

    Numeric features take JSON numbers (strictly: no strings, no booleans, no NaN/Infinity, at
    most ``MAX_ABS`` in absolute value) or ``null`` for unknown (imputed with the training
    median). One-hot features take a string, an integer, or ``null``. An optional ``id`` is
    echoed back; other keys are ignored.
    """
    fields: dict[str, Any] = {}
    attrs: dict[str, str] = {}
    example: dict[str, Any] = {}
    quantiles = model.training.get("quantiles", {})
    categories = model.training.get("categories", {})
    for i, feature in enumerate(model.plan.numeric):
        attr = f"f{i}"
        q = quantiles.get(feature)
        example[feature] = round(float(q[5]), 2) if q else 0.0
        fields[attr] = (
            Annotated[
                float | None, Field(strict=True, allow_inf_nan=False, ge=-MAX_ABS, le=MAX_ABS)
            ],
            Field(
                ...,
                alias=feature,
                description=f"Numeric ({model.roles.get(feature, 'numeric')}, at most "
                f"{MAX_ABS:g} in absolute value); null = unknown, imputed with the training "
                "median.",
                examples=[example[feature]],
            ),
        )
        attrs[feature] = attr
    for j, feature in enumerate(model.plan.categorical):
        attr = f"c{j}"
        known = list(categories.get(feature, {}))
        example[feature] = known[0] if known else "a"
        fields[attr] = (
            Annotated[str, Field(max_length=200)] | Annotated[int, Field(strict=True)] | None,
            Field(
                ...,
                alias=feature,
                description="Category"
                + (f" (seen in training: {', '.join(map(str, known[:20]))})" if known else "")
                + "; an unseen one counts as none of them; null = most frequent.",
                examples=[example[feature]],
            ),
        )
        attrs[feature] = attr
    if ID_FIELD not in model.plan.columns:
        fields["customer_id_"] = (
            str | int | None,
            Field(None, alias=ID_FIELD, description="Optional customer id, echoed back."),
        )
    customer = create_model(
        "Customer",
        __config__=ConfigDict(extra="ignore", populate_by_name=False),
        **fields,
    )
    customer.model_config["json_schema_extra"] = {"examples": [example]}
    customer.model_rebuild(force=True)
    batch = Annotated[list[customer], Field(max_length=max_batch)]
    body = Annotated[customer | batch, Field(title="Customers")]
    return Schemas(customer, body, TypeAdapter(customer), TypeAdapter(batch), attrs, example)
