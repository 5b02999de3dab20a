"""tickets: issued tickets, ticket codes, QR and check-in."""
