"""The gap rules ("signalen") of ``rules.md``: declarative YAML rules and a pure engine.

Nothing here knows about Kafka or Faust. Typical use::

    rules = load_rules(settings.rules_dir)          # built-ins + a municipality's files
    signals = rules.evaluate(subject, events, clock)  # definitive known signals
    due = rules.next_due(events, clock)             # when the clock alone changes them

The rule vocabulary, the built-in rules and how to change them are described for operators in
``docs/rules.md``.
"""

from streams.rules.calendar import Period, add_working_days
from streams.rules.catalogue import INPUT_TYPES, PRODUCTCATEGORIEEN
from streams.rules.compiler import compile_rule
from streams.rules.definitions import Rule
from streams.rules.engine import RuleSet
from streams.rules.explain import describe_rule
from streams.rules.loading import BUILTIN_DIR, BUILTIN_IDS, load_rules

__all__ = [
    "BUILTIN_DIR",
    "BUILTIN_IDS",
    "INPUT_TYPES",
    "PRODUCTCATEGORIEEN",
    "Period",
    "Rule",
    "RuleSet",
    "add_working_days",
    "compile_rule",
    "describe_rule",
    "load_rules",
]
