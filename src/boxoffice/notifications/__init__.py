"""notifications: e-mail templates, delivery, retries and dead letters."""
