"""batch: scheduled jobs, their run history and monitoring."""
