"""orders: orders of tickets and goods, payments, refunds, payment providers."""
