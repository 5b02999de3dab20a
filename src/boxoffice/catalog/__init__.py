"""catalog: venues and seat maps, events, shows, price grades, categories, images, view counts."""
