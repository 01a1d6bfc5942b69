"""Typed errors of the billing rules: each names what is wrong with the data it was given."""

from __future__ import annotations


class BillingError(ValueError):
    """Billing data that the rules cannot apply to; the message says why."""


class ScheduleError(BillingError):
    """A zone schedule with overlapping or missing time, or boundaries off the half-hour grid."""


class NotInForce(BillingError):
    """No version of a dated parameter is in force for the period asked for."""
