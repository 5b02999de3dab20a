"""What a sale's invariants promise, counted in the database (``:show`` is the show id).

Shared by the benchmarks that sell seats (``flash_sale.py``, ``purchase.py``): after a
run, every count named as an invariant must be zero.
"""

LIVE_TICKETS = """
    SELECT count(*) FROM tickets_tickets
    WHERE show_id = :show AND status IN ('valid', 'used')"""
SEATS_WITH_TWO_LIVE_TICKETS = """
    SELECT count(*) FROM (
        SELECT seat_id FROM tickets_tickets
        WHERE show_id = :show AND status IN ('valid', 'used')
        GROUP BY seat_id HAVING count(*) > 1
    ) AS doubled"""
SOLD_SEATS = """
    SELECT count(*) FROM seating_seats WHERE show_id = :show AND status = 'sold'"""
SOLD_SEATS_WITHOUT_ONE_TICKET = """
    SELECT count(*) FROM seating_seats s
    WHERE s.show_id = :show AND s.status = 'sold' AND (
        SELECT count(*) FROM tickets_tickets t
        WHERE t.show_id = s.show_id AND t.seat_id = s.seat_id AND t.status IN ('valid', 'used')
    ) <> 1"""
TICKETS_ON_UNSOLD_SEATS = """
    SELECT count(*) FROM tickets_tickets t
    WHERE t.show_id = :show AND t.status IN ('valid', 'used') AND NOT EXISTS (
        SELECT 1 FROM seating_seats s
        WHERE s.show_id = t.show_id AND s.seat_id = t.seat_id AND s.status = 'sold'
    )"""
PAID_ORDERS_WITHOUT_THEIR_TICKETS = """
    SELECT count(*) FROM orders_orders o
    WHERE o.show_id = :show AND o.status = 'paid' AND (
        SELECT count(*) FROM tickets_tickets t
        WHERE t.order_id = o.id AND t.status IN ('valid', 'used')
    ) <> o.ticket_count"""
