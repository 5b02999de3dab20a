"""identity: users, credentials, refresh tokens, social accounts, roles, seller profiles."""
