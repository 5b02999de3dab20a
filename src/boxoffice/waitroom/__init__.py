"""waitroom: per-show waiting queues, positions, admission tokens, the dispatcher."""
