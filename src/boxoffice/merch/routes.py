"""merch's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile, status

from boxoffice.merch import service
from boxoffice.merch.schemas import (
    ImageRead,
    ProductCreate,
    ProductList,
    ProductRead,
    ProductUpdate,
    StockAdjust,
    StockAdjustmentList,
    StockAdjustmentRead,
    VariantCreate,
    VariantRead,
)
from boxoffice.platform import media
from boxoffice.platform.db import record_of
from boxoffice.platform.deps import OptionalUser, ReadUoW, RuntimeDep, SellerUser, UoW
from boxoffice.platform.openapi import owner_problems, problems

router = APIRouter(tags=["merch"])

_SELLER_ERRORS = owner_problems("event", "product")


def product_read(view: service.ProductView) -> ProductRead:
    return record_of(
        ProductRead,
        view.product,
        status=view.shown_status.value,
        variants=[
            VariantRead(
                sku=v.sku,
                option=v.option,
                in_stock=v.stock > 0,
                stock=v.stock if view.owner_view else None,
            )
            for v in view.variants
        ],
        images=[record_of(ImageRead, image) for image in view.images],
    )


@router.post(
    "/events/{event_id}/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductRead,
    responses=_SELLER_ERRORS | problems({409: "SKU in use, or event cancelled"}),
)
async def create_product(event_id: str, body: ProductCreate, uow: UoW, user: SellerUser) -> Any:
    return product_read(await service.create_product(uow, user, event_id, body))


@router.get(
    "/events/{event_id}/products",
    response_model=ProductList,
    responses=problems({404: "no such event"}),
)
async def list_event_products(event_id: str, uow: ReadUoW, user: OptionalUser) -> Any:
    views = await service.list_products(uow, user, event_id)
    return ProductList(items=[product_read(v) for v in views])


@router.get(
    "/products/{product_id}",
    response_model=ProductRead,
    responses=problems({404: "no such product"}),
)
async def get_product(product_id: str, uow: ReadUoW, user: OptionalUser) -> Any:
    return product_read(await service.get_product(uow, user, product_id))


@router.patch("/products/{product_id}", response_model=ProductRead, responses=_SELLER_ERRORS)
async def update_product(product_id: str, body: ProductUpdate, uow: UoW, user: SellerUser) -> Any:
    return product_read(await service.update_product(uow, user, product_id, body))


@router.post(
    "/products/{product_id}/variants",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductRead,
    responses=_SELLER_ERRORS | problems({409: "SKU in use"}),
)
async def add_product_variant(
    product_id: str, body: VariantCreate, uow: UoW, user: SellerUser
) -> Any:
    return product_read(await service.add_variant(uow, user, product_id, body))


@router.post(
    "/products/{product_id}/variants/{sku}/stock",
    response_model=StockAdjustmentRead,
    responses=_SELLER_ERRORS | problems({409: "would take stock below zero"}),
)
async def adjust_variant_stock(
    product_id: str, sku: str, body: StockAdjust, uow: UoW, user: SellerUser
) -> Any:
    return await service.adjust_stock(uow, user, product_id, sku, body)


@router.get(
    "/products/{product_id}/stock-adjustments",
    response_model=StockAdjustmentList,
    responses=_SELLER_ERRORS,
)
async def list_stock_adjustments(product_id: str, uow: ReadUoW, user: SellerUser) -> Any:
    items = await service.stock_adjustments(uow, user, product_id)
    return StockAdjustmentList(items=[StockAdjustmentRead.model_validate(a) for a in items])


@router.post(
    "/products/{product_id}/images",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageRead,
    responses=_SELLER_ERRORS
    | problems({409: "the product has its maximum of images"})
    | media.UPLOAD_PROBLEMS,
)
async def upload_product_image(
    product_id: str,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    uow: UoW,
    runtime: RuntimeDep,
    user: SellerUser,
) -> Any:
    data = await media.read_upload(file, runtime.settings.max_upload_bytes)
    image = await service.add_image(uow, runtime, user, product_id, data)
    return ImageRead(id=image.id, url=image.url, thumbnail_url=image.thumbnail_url)
