"""``schakel schemas check`` and ``schakel schemas register`` (the deploy job).

``register`` is the only place Schakel registers schemas: workers and adapters only look ids
up. For every subject (:func:`schemas.registry.catalogue_subjects`: each catalogue schema
under the one topic that carries it, in ``SCHAKEL_NAMESPACE``) it first sets the subject's
compatibility level to ``BACKWARD_TRANSITIVE`` and then registers every committed version,
oldest first, so the registry itself checks each version against all earlier ones. Running
it again changes nothing (identical schemas keep their id and version). The first refusal
stops the job with a message naming the subject and the HTTP status (exit code 2).
"""

from __future__ import annotations

import argparse
import sys

from schemas.catalogue import catalogue
from schemas.compat import check_backward_transitive
from schemas.exceptions import SettingsError
from schemas.registry import COMPATIBILITY, catalogue_subjects
from schemas.registry_client import ConfluentRegistry, RegistryConnection
from schemas.settings import CommonSettings


def check() -> int:
    """The offline BACKWARD_TRANSITIVE check of the committed ``.avsc`` files."""
    problems = check_backward_transitive()
    for problem in problems:
        print(f"INCOMPATIBLE {problem}", file=sys.stderr)
    cat = catalogue()
    versions = sum(len(cat.versions(n)) for n in cat.names)
    print(
        f"schemas: {len(cat.names)} schemas, {versions} versions, "
        f"{len(problems)} incompatibilities ({COMPATIBILITY})"
    )
    return 1 if problems else 0


def register(settings: CommonSettings) -> int:
    """Register every subject in the configured registry (see the module docstring)."""
    if not settings.schema_registry_url:
        raise SettingsError("SCHAKEL_SCHEMA_REGISTRY_URL: required for `schakel schemas register`")
    registry = ConfluentRegistry(RegistryConnection.from_settings(settings))
    try:
        subjects = catalogue_subjects(settings.wire())
        for subject, versions in subjects.items():
            registry.set_compatibility(subject, COMPATIBILITY)
            for version in versions:
                schema_id = registry.register(subject, version.raw)
                print(f"{subject} v{version.version} -> id {schema_id}")
        print(
            f"schemas register: {len(subjects)} subjects at {registry.connection.where}, "
            f"compatibility {COMPATIBILITY}",
            file=sys.stderr,
        )
    finally:
        registry.close()
    return 0


def run(args: argparse.Namespace, settings: CommonSettings) -> int:
    """The ``schemas`` subcommand."""
    return check() if args.action == "check" else register(settings)
