"""Reminders: the policy, each invitation's plan, sending windows and the sweep's writes."""
