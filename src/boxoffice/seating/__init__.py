"""seating: the seat inventory of each show and holds that expire."""
