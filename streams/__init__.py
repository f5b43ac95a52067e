"""Stream processing: the per-citizen timeline, the gap rules and the Faust app that wraps them.

The pure core (:mod:`streams.model`, :mod:`streams.rules`, :mod:`streams.state`) imports neither
Faust nor Kafka; :mod:`streams.app` wraps it in thin agents.
"""
