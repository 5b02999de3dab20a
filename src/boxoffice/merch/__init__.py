"""merch: goods, variants (SKU), stock and stock reservations."""
