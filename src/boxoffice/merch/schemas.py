"""merch's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from boxoffice.platform.schemas import Strict

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Option = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Sku = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Price = Annotated[int, Field(ge=0, le=100_000_000, description="minor units of the currency")]
Stock = Annotated[int, Field(ge=0, le=1_000_000)]
Limit = Annotated[int, Field(ge=1, le=1000, description="units one user may buy in all")]
Status = Literal["on_sale", "sold_out", "hidden"]


class VariantCreate(Strict):
    sku: Sku = Field(description="unique across the shop: letters, digits, '.', '_', '-'")
    option: Option = Field("", description="e.g. a size: 'M', 'XL'")
    stock: Stock = 0


class ProductCreate(Strict):
    name: Name
    description: str = Field("", max_length=5000)
    price: Price
    variants: list[VariantCreate] = Field(min_length=1, max_length=50)
    status: Status = "on_sale"
    max_per_user: Limit | None = None

    @model_validator(mode="after")
    def _distinct_skus(self) -> Self:
        skus = [v.sku for v in self.variants]
        if len(set(skus)) != len(skus):
            raise ValueError("each variant needs its own sku")
        return self


class ProductUpdate(Strict):
    """Fields to change; ``max_per_user: null`` removes the limit."""

    name: Name | None = None
    description: str | None = Field(None, max_length=5000)
    price: Price | None = None
    status: Status | None = None
    max_per_user: Limit | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        for name in ("name", "description", "price", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class StockAdjust(Strict):
    delta: int = Field(ge=-1_000_000, le=1_000_000, description="units to add (or remove, < 0)")
    reason: Reason

    @model_validator(mode="after")
    def _non_zero(self) -> Self:
        if self.delta == 0:
            raise ValueError("delta must not be zero")
        return self


class VariantRead(BaseModel):
    sku: str
    option: str
    in_stock: bool
    stock: int | None = Field(None, description="units left; shown to the event's seller only")


class ImageRead(BaseModel):
    id: str
    url: str
    thumbnail_url: str


class ProductRead(BaseModel):
    id: str
    event_id: str
    seller_id: str
    name: str
    description: str
    price: int
    currency: str
    status: Status
    max_per_user: int | None
    variants: list[VariantRead]
    images: list[ImageRead]
    created_at: datetime
    updated_at: datetime


class ProductList(BaseModel):
    items: list[ProductRead]


class StockAdjustmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sku: str
    delta: int
    stock_after: int
    reason: str
    actor_id: str
    created_at: datetime


class StockAdjustmentList(BaseModel):
    items: list[StockAdjustmentRead]
