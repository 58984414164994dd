"""Executions: services (start, wait, run), dispatch (to the queue), recovery (the sweeper), selectors, tasks."""
