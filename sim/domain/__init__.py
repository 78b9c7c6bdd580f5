"""The negotiation domain: issues and packages, payoffs and utilities, the calendar, the no-deal path.

Nothing here knows about agents, configs or runs; the engine and the config compiler build on it.
"""
