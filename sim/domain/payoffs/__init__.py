"""Payoff models: how a package turns into each party's payoff (USD bn/yr, or a share of a pie)."""
