"""boxoffice: ticket commerce for concerts, performances and their merchandise."""

__version__ = "0.1.0"
