"""Payment providers behind one interface: ``internal``, ``toss`` and ``kakaopay``."""
