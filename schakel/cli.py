"""The ``schakel`` command line. Subcommands are wired here; their work lives in adapters/,
streams/ and the small command modules of this package."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from kafka.errors import KafkaError

from schakel import __version__
from schakel.arguments import port_number
from schakel.logs import setup_logging, tell_held_back
from schemas import kafka_client
from schemas.environment import (
    foreign_secrets,
    kafka_files_without_tls,
    registry_files_without_tls,
    unknown_variables,
)
from schemas.exceptions import SchakelError, SettingsError, TransientError
from schemas.pseudonym import mask_bsn
from schemas.settings import (
    AdapterSettings,
    CommonSettings,
    ForgetSettings,
    GenerateSettings,
    OutboxSettings,
    Settings,
    WebhookSettings,
    WorkerSettings,
    load_process_settings,
)

Command = Callable[[argparse.Namespace, Any], int]
"""A subcommand: its arguments and the settings of its kind of process (:data:`SETTINGS_OF`)."""

EXIT_CONFIG = 2
"""Bad configuration, data or environment (a permanent error): fix it, then run again."""
EXIT_TEMPFAIL = 75
"""EX_TEMPFAIL (sysexits.h): an outage of the broker or schema registry outlasted the
retries (a transient error): run again later; nothing after the last checkpoint was lost."""
EXIT_UNFINISHED = 4
"""``schakel publish``: not everything was published — a file's last line was still being
written (it changed during the settle time) and waits, unread, for the next run: run publish
again once the file is complete."""
_MAX_MESSAGE = 500
SETTINGS_OF: dict[str, type[CommonSettings]] = {
    "worker": WorkerSettings,
    "adapter": AdapterSettings,
    "adapter outbox": OutboxSettings,
    "adapter wijkteam --serve": WebhookSettings,
    "publish": AdapterSettings,
    "forget": ForgetSettings,
    "generate": GenerateSettings,
    "dlq": CommonSettings,
    "schemas": CommonSettings,
    "broker": CommonSettings,
}
"""The settings class each kind of process loads (:func:`process_of` names the process of a
command line), and only those variables: a worker never reads the pseudonym key, only the
webhook reads the webhook tokens, only the outbox adapter the DSN; the commands that
pseudonymise refuse to start without the key, in every profile (issue 11 item 14);
``generate`` reads the key if set (the ground truth's pseudonyms) and no other secret. The rest
(demo, replay, config) load :class:`Settings`: demo and replay run the whole pipeline in one
run of their own and may generate a key for it. The one statement of who
reads what: the README's configuration table is generated from it
(:mod:`schakel.config_doc`)."""


def process_of(args: argparse.Namespace) -> str:
    """The kind of process ``args`` start, a key of :data:`SETTINGS_OF` (or the command
    when it loads :class:`Settings`): the command, and for ``adapter`` the outbox adapter and
    the webhook apart from the other adapters."""
    if args.command == "adapter":
        if args.serve and args.name == "wijkteam":
            return "adapter wijkteam --serve"
        if args.name == "outbox":
            return "adapter outbox"
    return str(args.command)


WITHOUT_REGISTRY = frozenset({"generate", "broker", "config"})
"""The processes that never talk to a configured schema registry (:func:`process_of`): they
ignore its settings (``broker`` serves an embedded registry only when none is configured)."""
WITHOUT_KAFKA = frozenset({"generate", "broker", "config", "schemas"})
"""The processes that never connect to the configured Kafka (:func:`process_of`): ``broker``
starts an embedded one, which speaks plaintext; ``schemas`` checks offline or registers in
the registry; ``config`` shows the settings, then checks them (:func:`check_connections`)."""


def uses_registry(args: argparse.Namespace, settings: CommonSettings) -> bool:
    """Whether the process of ``args`` talks to the schema registry of ``settings``: one is
    configured (SCHEMA_REGISTRY_URL) and the process is not one of :data:`WITHOUT_REGISTRY`
    nor ``schemas check`` (offline)."""
    process = process_of(args)
    offline = process == "schemas" and args.action == "check"
    return bool(settings.schema_registry_url) and process not in WITHOUT_REGISTRY and not offline


def uses_kafka(args: argparse.Namespace) -> bool:
    """Whether the process of ``args`` connects to the configured Kafka (its security,
    ``SCHAKEL_KAFKA_SECURITY_PROTOCOL`` and files): not one of :data:`WITHOUT_KAFKA`, and
    ``demo`` and ``replay`` only with ``--bootstrap`` (else they run on an embedded broker
    of their own, in plaintext)."""
    process = process_of(args)
    if process in ("demo", "replay"):
        return args.bootstrap is not None
    return process not in WITHOUT_KAFKA


def check_connections(
    settings: CommonSettings, *, kafka: bool, registry: bool
) -> list[SettingsError]:
    """What stops the connections of ``settings`` from working before any is made — Kafka's
    security (:meth:`~schemas.kafka_client.KafkaSecurity.from_settings`: SASL, TLS files)
    if ``kafka``, which is then installed for the process (:func:`kafka_client.configure`),
    and the registry's credentials and files if ``registry``: one error per connection. First,
    for each, TLS files of a connection without TLS (:func:`kafka_files_without_tls`,
    :func:`registry_files_without_tls`): that connection is then not checked further, nor
    Kafka's security installed."""
    problems = []
    if kafka:
        try:
            if unencrypted := kafka_files_without_tls(settings):
                raise unencrypted
            kafka_client.configure(kafka_client.KafkaSecurity.from_settings(settings))
        except SettingsError as exc:
            problems.append(exc)
    if registry:
        from schemas.registry_client import RegistryConnection

        try:
            if unencrypted := registry_files_without_tls(settings):
                raise unencrypted
            RegistryConnection.from_settings(settings)
        except SettingsError as exc:
            problems.append(exc)
    return problems


def settings_class(args: argparse.Namespace) -> type[CommonSettings]:
    """The settings class the process of ``args`` loads (:data:`SETTINGS_OF`)."""
    return SETTINGS_OF.get(process_of(args), Settings)


def one_line(exc: BaseException | str) -> str:
    """``exc``'s message (or the text ``exc``) on one line (whitespace runs folded), capped,
    any number that could be a BSN masked (:func:`schemas.pseudonym.mask_bsn`: a file name
    may hold one, as log lines and the quarantine mask): for stderr."""
    text = mask_bsn(" ".join(str(exc).split()))
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _cmd_broker(args: argparse.Namespace, settings: CommonSettings) -> int:
    from schakel.broker import EmbeddedBroker
    from schakel.registry_server import announce, start_embedded
    from schakel.topics import ensure_topics
    from schakel.wiring import broker_file

    broker = EmbeddedBroker(args.port).start()
    ensure_topics(broker.bootstrap, partitions=settings.partitions, wire=settings.wire())
    registry = start_embedded(settings)  # None when SCHAKEL_SCHEMA_REGISTRY_URL is set
    info = {"bootstrap": broker.bootstrap, "pid": os.getpid()}
    if registry is not None:
        info["schema_registry"] = registry.url
    path = broker_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info))
    print(f"schakel: embedded broker on {broker.bootstrap} (memory storage; Ctrl-C stops it)")
    if registry is not None:
        print(f"schakel: {announce(registry)}")
    print(f"schakel: export SCHAKEL_KAFKA_BOOTSTRAP={broker.bootstrap}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        if registry is not None:
            registry.stop()
        broker.stop()
        path.unlink(missing_ok=True)
    return 0


def _cmd_adapter(args: argparse.Namespace, settings: AdapterSettings) -> int:
    from schakel import adapter_cmd

    return adapter_cmd.run(args, settings)


def _cmd_publish(args: argparse.Namespace, settings: AdapterSettings) -> int:
    from schakel import adapter_cmd

    return adapter_cmd.main_publish(args, settings)


def _cmd_worker(args: argparse.Namespace, settings: WorkerSettings) -> int:
    from schakel import worker_cmd

    return worker_cmd.run(args, settings)


def _cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from schakel import replay

    return replay.run(args, settings)


def _cmd_generate(args: argparse.Namespace, settings: GenerateSettings) -> int:
    from schakel import generate

    return generate.run(args, settings)


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from schakel import demo

    return demo.run(args, settings)


def _cmd_forget(args: argparse.Namespace, settings: ForgetSettings) -> int:
    from schakel import forget

    return forget.run(args, settings)


def _cmd_dlq(args: argparse.Namespace, settings: CommonSettings) -> int:
    from schakel import dlq

    return dlq.run(args, settings)


def _cmd_schemas(args: argparse.Namespace, settings: CommonSettings) -> int:
    from schakel import schemas_cmd

    return schemas_cmd.run(args, settings)


def _cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    """The README's table (``--markdown``: nothing of this host), or the settings and then,
    on stderr, one line for each connection they cannot make (exit 2): the checks every
    process that connects makes at start (:func:`check_connections`)."""
    from schakel.config_doc import markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    for name, value in settings:
        print(f"SCHAKEL_{name.upper()}={_shown_setting(name, value)}", flush=True)
    unknown = unknown_variables(Settings)
    for variable in unknown:
        if not variable.refused:
            print(f"schakel: warning: {one_line(variable.warning())}", file=sys.stderr)
    problems = [v.refusal() for v in unknown if v.refused]
    problems += check_connections(settings, kafka=True, registry=bool(settings.schema_registry_url))
    for problem in problems:
        print(f"schakel: {one_line(problem)}", file=sys.stderr)
    return EXIT_CONFIG if problems else 0


_SECRET_NAMES = ("key", "token", "dsn")


def _shown_setting(name: str, value: object) -> object:
    """How ``schakel config`` shows a setting: ``***`` for a secret named so (a ``SecretStr``
    shows stars by itself), and a URL with the user name and password it holds replaced by
    ``***`` (a schema registry given as ``https://user:password@host``)."""
    if value is None:
        return None
    if any(s in name for s in _SECRET_NAMES):
        return "***"
    if isinstance(value, str):
        return _USERINFO.sub(r"\1***@", value)
    return value


_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@,\s]*@")
"""A URL's scheme and user information (``user:password@``), of each URL in a value (the
registry's may list several, comma-separated)."""


USER_HELP = """\
Schakel connects the municipal social domain (Participatiewet, Wmo, sociale wijkteams,
schuldhulpverlening): adapters read the source systems' exports and messages, pseudonymise
the citizen (no BSN past the adapter), publish CloudEvents on Kafka, and stream workers
raise signals where a citizen falls between two services, for coordinators to act on.

Start with `schakel demo` (everything on this machine, a sample municipality, a web page on
127.0.0.1). In production: `schakel worker` and one `schakel adapter …` per source, against
your Kafka and schema registry (SCHAKEL_* settings, `schakel config`)."""
USER_EPILOG = """\
Documentation: README.md (quick start, settings), docs/operations.md (running it: topics,
dead letters, exit codes), docs/adapters.md (sources), docs/rules.md (signal rules),
docs/api.md (HTTP API). `schakel COMMAND --help` explains each command."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schakel",
        description=USER_HELP,
        epilog=USER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"schakel {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("broker", help="run the embedded broker alone (local development)")
    p.add_argument(
        "--port",
        type=port_number(any_free=True),
        default=None,
        help="port of the broker (default, or 0: any free one; it is printed)",
    )
    p.set_defaults(func=_cmd_broker)

    from schakel import adapter_cmd

    p = sub.add_parser("adapter", help="run one adapter (--once or continuous)")
    adapter_cmd.add_arguments(p)
    p.set_defaults(func=_cmd_adapter)

    p = sub.add_parser("publish", help="publish CloudEvents JSON lines (generic adapter)")
    adapter_cmd.add_publish_arguments(p)
    p.set_defaults(func=_cmd_publish)

    from schakel import replay, worker_cmd

    p = sub.add_parser("worker", help="run a stream worker against the configured Kafka")
    worker_cmd.add_arguments(p)
    p.set_defaults(func=_cmd_worker)

    p = sub.add_parser(
        "replay",
        help="run input through the real pipeline on a fresh embedded broker (or, with "
        "--bootstrap, in a fresh namespace on an existing Kafka) and print the definitive "
        "signals",
        # replay reads its inputs from the command line in their order (ordered_inputs), which
        # knows the options by their full names: an abbreviation would be taken for a file
        allow_abbrev=False,
    )
    replay.add_arguments(p)
    p.set_defaults(func=_cmd_replay)

    p = sub.add_parser("generate", help="write a synthetic municipality in native formats")
    _lazy_arguments("schakel.generate", p)
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser(
        "demo",
        help="the main job: broker, worker, adapters over a synthetic "
        "municipality, summary, then API + web page until Ctrl-C",
    )
    _lazy_arguments("schakel.demo", p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "forget",
        help="right to erasure: delete a citizen's state and "
        "tombstone their keys on every compacted topic",
    )
    _lazy_arguments("schakel.forget", p)
    p.set_defaults(func=_cmd_forget)

    p = sub.add_parser("dlq", help="dead letters: list, show ID, replay after a fix")
    _lazy_arguments("schakel.dlq", p)
    p.set_defaults(func=_cmd_dlq)

    p = sub.add_parser("schemas", help="schema compatibility check / registration")
    p.add_argument("action", choices=["check", "register"])
    p.set_defaults(func=_cmd_schemas)

    p = sub.add_parser(
        "config",
        help="show the configuration (secrets masked), then check Kafka's and the schema "
        "registry's credentials and TLS files",
    )
    p.add_argument("--markdown", action="store_true", help="print the README table")
    p.set_defaults(func=_cmd_config)

    return parser


def _lazy_arguments(module: str, parser: argparse.ArgumentParser) -> None:
    import importlib

    importlib.import_module(module).add_arguments(parser)


CHECKS_ITSELF = frozenset({"config"})
"""The processes that make the checks of :func:`started` and :func:`tell_environment`
themselves, after they showed the settings (``config``: :func:`_cmd_config`)."""


def started(args: argparse.Namespace) -> CommonSettings | None:
    """The settings of the process of ``args``, with a misspelt security setting refused
    (:func:`~schemas.environment.unknown_variables`) and the credentials and files of the
    connections it makes checked (:func:`check_connections`; Kafka's security installed);
    ``None`` when they cannot work, said on stderr, one line for each problem (invalid
    values are one line together; with one, the connections are not checked)."""
    model = settings_class(args)
    settings: CommonSettings | None = None
    problems: list[SettingsError] = []
    try:
        settings = load_process_settings(model)
    except SettingsError as exc:
        problems.append(exc)
    if process_of(args) not in CHECKS_ITSELF:
        problems += [v.refusal() for v in unknown_variables(model) if v.refused]
        if settings is not None:
            problems += check_connections(
                settings, kafka=uses_kafka(args), registry=uses_registry(args, settings)
            )
    for problem in problems:
        print(f"schakel: {one_line(problem)}", file=sys.stderr)
    return None if problems else settings


log = logging.getLogger("schakel.settings")


def tell_environment(args: argparse.Namespace) -> None:
    """Log, once at start (after :func:`setup_logging`), what in the environment is not as it
    should be but does not stop the process of ``args``: each ``SCHAKEL_*`` variable no
    process reads (``settings.unknown_variable``: its name and the setting it resembles, never
    its value), and in one line the secrets of other processes that reached this one
    (``settings.secret_of_another_process``: each variable and the processes that use it, and
    ``command``, this process: ``process`` is the logging module's own, its id)."""
    process = process_of(args)
    if process in CHECKS_ITSELF:
        return
    model = settings_class(args)
    for variable in unknown_variables(model):
        if not variable.refused:
            log.warning(
                "settings.unknown_variable",
                extra={
                    "variable": variable.name,
                    "closest": variable.closest,
                    "hint": variable.hint(),
                },
            )
    theirs = foreign_secrets(model)
    if theirs:
        log.warning(
            "settings.secret_of_another_process",
            extra={
                "command": process,
                "variables": {name: ", ".join(users_of(f)) for name, f in theirs.items()},
                "hint": "a secret belongs only in the environment of the processes that use "
                "it: remove these from this process's",
            },
        )


def users_of(field: str) -> list[str]:
    """The kinds of process (:data:`SETTINGS_OF`) whose settings have ``field`` (besides
    ``demo`` and ``replay``, which read every setting)."""
    return [process for process, model in SETTINGS_OF.items() if field in model.model_fields]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    settings = started(args)
    if settings is None:
        return EXIT_CONFIG
    setup_logging(settings.log_level, settings.log_format)
    tell_environment(args)
    func: Command = args.func
    try:
        return func(args, settings)
    except TransientError as exc:  # an outage that outlasted the retries: try again later
        tell_held_back()
        print(f"schakel: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return EXIT_TEMPFAIL
    except KafkaError as exc:  # a Kafka client gave up (e.g. an address that answers, not Kafka)
        tell_held_back()
        name = type(exc).__name__
        print(f"schakel: {name}: {one_line(exc).removeprefix(f'{name}: ')}", file=sys.stderr)
        return EXIT_TEMPFAIL if exc.retriable else EXIT_CONFIG
    except (SchakelError, RuntimeError, OSError) as exc:
        # errors of configuration, data or environment: one clear line, no stack trace
        tell_held_back()
        print(f"schakel: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
