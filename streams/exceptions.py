"""The exception tree of :mod:`streams`."""


class StreamsError(Exception):
    """Base of every error raised by the stream core."""


class RuleConfigError(StreamsError):
    """A rule file is invalid: the message names the file, the rule id and the field."""
