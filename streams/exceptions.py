"""The exception tree of :mod:`streams`, hanging from :class:`schemas.exceptions.SchakelError`."""

from schemas.exceptions import PermanentError, SchakelError, TransientError


class StreamsError(SchakelError):
    """Base of every error raised by the stream core."""


class RuleConfigError(StreamsError, PermanentError):
    """A rule file is invalid: the message names the file, the rule id and the field."""


class RuleFileError(RuleConfigError):
    """A rule file failed validation; ``path``, ``rule_id`` and ``field`` locate the error.

    The message reads ``<file>: rule '<id>': field '<field>': <what is wrong>``.
    """

    def __init__(self, path: str, rule_id: str | None, field: str | None, message: str) -> None:
        self.path = path
        self.rule_id = rule_id
        self.field = field
        self.detail = message
        where = [path]
        if rule_id is not None:
            where.append(f"rule '{rule_id}'")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{': '.join(where)}: {message}")


class StateDecodeError(StreamsError, PermanentError):
    """A table changelog record is not a citizen state Schakel can read: a record of another
    schema, or a stored event that no longer gives a timeline event (an unparsable ``time``).
    Schakel writes the changelog itself, so this is corruption or a defect; the message says
    which, never with a BSN."""


class OutputUnavailable(StreamsError, TransientError):
    """The producer did not take an output record for now (the broker unreachable for
    longer than its request timeout, or a retriable Kafka error): waited out, never a reason
    to dead-letter the record that caused it."""
