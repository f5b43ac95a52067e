"""Adapters: read what municipal systems already produce, validate, pseudonymise, publish.

Every adapter is a :class:`adapters.base.Source` run by the one publishing path in
:mod:`adapters.runner` (validate → publish with acks=all → checkpoint after the ack →
quarantine what is bad)."""
