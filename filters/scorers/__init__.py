"""Scorers: functions from (prompts, responses) to one number per row, or a reason there is none."""
