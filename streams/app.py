"""The Faust app, built by one factory (:func:`create_app`): no global app.

Streams registered explicitly:

- agent ``verwerk`` over the four event topics and ``schakel.klok`` (co-partitioned, keyed by
  pseudonym; ``concurrency=1`` — see docs/operations.md) → :class:`streams.processor.Processor`;
- table ``burgers`` (pseudonym → :class:`streams.state.CitizenState`, Avro in the changelog;
  memory store in tests, RocksDB via rocksdict in production);
- timer (live clock only) sending ticks for citizens whose next deadline has come, from an
  in-memory index of due dates (rebuilt once from the table after start);
- the HTTP API (:mod:`streams.api`) and a read model of all signals (:mod:`streams.readmodel`).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import shutil
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import faust
import faust.streams as faust_streams
from faust.serializers.codecs import Codec

from schemas import kafka_client
from schemas.binding import record_headers
from schemas.registry import SchemaRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.settings import WorkerSettings
from schemas.wire import DEADLETTER_STREAMS, KLOK_SCHEMA, TABLE, Wire
from streams.api import ApiContext, register_api, worker_configuration
from streams.audit import AuditTrail
from streams.codec import StateCodec
from streams.embedded import use_true_highwaters
from streams.fetcher_close import close_fetcher_cleanly
from streams.metrics import WorkerMetrics
from streams.processor import ClockMode, Message, Processor
from streams.reachability import PROBE_INTERVAL_S, BrokerProbe
from streams.readmodel import ReadModel
from streams.recovery import seek_before_resume, use_committed_highwaters
from streams.rules import RuleSet
from streams.sizes import (
    PRODUCER_MAX_REQUEST_BYTES,
    batch_bytes,
    output_limit,
    sized_outputs,
    topic_limits,
)
from streams.state import CitizenState
from streams.toestand import Period
from streams.toestand import periods as derived_periods
from streams.transactions import (
    AtLeastOnceApp,
    TransactionalApp,
    processing_guarantee,
    record_scope,
)
from streams.watchdog import watch_producer
from streams.webui import register_ui

log = logging.getLogger("schakel.streams")
PRODUCER_LINGER_S = 0.01
"""How long the worker's producer waits to fill a batch before it sends (Faust's
``producer_linger``; its default is 0). The worker writes a signal event per signal change
and, per commit interval, a snapshot and a state per changed citizen: 10 ms gathers them into
fewer produce requests — about a tenth less CPU per event in A/B runs of the benchmark
(docs/benchmarks-history.md) — and adds at most 10 ms before a signal leaves (under exactly-once a
signal is visible only after its transaction commits, every second, anyway)."""


class _Utf8(Codec):
    """Table keys: pseudonyms as UTF-8 text."""

    def _dumps(self, s: Any) -> bytes:
        return str(s).encode("utf-8")

    def _loads(self, s: bytes) -> Any:
        return s.decode("utf-8")


class _State(Codec):
    """Table values: :class:`CitizenState` as Avro (``nl.schakel.intern.toestand``)."""

    def _dumps(self, s: Any) -> bytes:
        codec: StateCodec = self.kwargs["state_codec"]
        return codec.encode(s)

    def _loads(self, s: bytes) -> Any:
        codec: StateCodec = self.kwargs["state_codec"]
        return codec.decode(s)


@dataclass
class DueIndex:
    """Due dates of citizens on this worker (min-heap with lazy deletion)."""

    heap: list[tuple[date, str]] = field(default_factory=list)
    due: dict[str, date] = field(default_factory=dict)
    built: bool = False

    def push(self, subject: str, when: date) -> None:
        if self.due.get(subject) == when:
            return
        self.due[subject] = when
        heapq.heappush(self.heap, (when, subject))

    def pop_due(self, today: date) -> list[str]:
        out = []
        while self.heap and self.heap[0][0] <= today:
            when, subject = heapq.heappop(self.heap)
            if self.due.get(subject) == when:
                del self.due[subject]
                out.append(subject)
        return out


@dataclass
class Worker:
    """The app and the parts tests and the CLI need to reach."""

    app: faust.App
    processor: Processor
    readmodel: ReadModel
    metrics: WorkerMetrics
    due: DueIndex


def _correct_faust(settings: WorkerSettings, bootstrap: str) -> None:
    """Apply the corrections of faust-streaming this worker runs with (idempotent):
    :mod:`streams.recovery` and :mod:`streams.fetcher_close` on every profile, and the
    highwaters of the broker at hand."""
    seek_before_resume()
    close_fetcher_cleanly()
    if settings.profile == "embedded":
        use_true_highwaters(bootstrap)
    else:
        use_committed_highwaters(bootstrap)


def _drop_local_tables_under_exactly_once(settings: WorkerSettings, app: faust.App) -> None:
    """Under exactly-once with the RocksDB store, start from the changelog, not from the
    local tables. Faust writes RocksDB as the worker processes, before the transaction that
    carries the same state to the changelog commits; a worker killed between the two leaves
    local state ahead of what was committed (records whose outputs were aborted), and on
    restart it would take those records for ones already done. The local tables are removed
    at start, so the table is rebuilt from the committed changelog (``read_committed``), as
    with the memory store; RocksDB still keeps the state out of memory while running.
    Seen in the exactly-once kill test with RocksDB: signal changes missing after a kill."""
    if settings.store == "rocksdb" and processing_guarantee(settings.profile) == "exactly_once":
        shutil.rmtree(app.conf.tabledir, ignore_errors=True)


def _credentials(security: kafka_client.KafkaSecurity) -> Any:
    """The process's Kafka security (:mod:`schemas.kafka_client`) as Faust's
    ``broker_credentials``, which Faust's aiokafka driver gives its consumer and producers:
    ``None`` for plaintext."""
    if security.sasl:
        return faust.SASLCredentials(
            username=security.username,
            password=security.password.get_secret_value() if security.password else None,
            ssl_context=security.ssl_context(),
            mechanism=security.mechanism,
        )
    if security.tls:
        return faust.SSLCredentials(security.ssl_context())
    return None


def _faust_app(
    settings: WorkerSettings, bootstrap: str, app_id: str, output_bytes: int
) -> faust.App:
    """The Faust app; ``output_bytes``: the largest output record (streams/sizes.py), which
    also bounds the producer's batches (:func:`streams.sizes.batch_bytes`)."""
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    # Faust's web driver without Faust's own views (streams/webserver.py); on Apache Kafka
    # with idempotent producers and exactly-once processing (streams/transactions.py)
    app_class = AtLeastOnceApp if settings.profile == "embedded" else TransactionalApp
    app = app_class(
        app_id,
        broker=[f"kafka://{host}" for host in bootstrap.split(",")],
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir / "worker"),
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_credentials=_credentials(kafka_client.current()),
        broker_session_timeout=settings.session_timeout_ms / 1000,
        broker_heartbeat_interval=settings.heartbeat_ms / 1000,
        broker_commit_interval=1.0,
        producer_linger=PRODUCER_LINGER_S,
        producer_max_request_size=PRODUCER_MAX_REQUEST_BYTES,
        producer_max_batch_size=batch_bytes(output_bytes),
        consumer_auto_offset_reset="earliest",
        processing_guarantee=processing_guarantee(settings.profile),
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        canonical_url=settings.api_url(),
        table_standby_replicas=0,
        # on the embedded broker Faust's persisted offsets can run one past the (reported)
        # end after multi-record batches (streams/offsets.py): keep the check for Kafka only
        recovery_consistency_check=settings.profile != "embedded",
    )
    _drop_local_tables_under_exactly_once(settings, app)
    watch_producer(app)  # a producer that failed for good stops the worker (streams/watchdog.py)
    return app


def _table(app: faust.App, wire: Wire, partitions: int, codec: StateCodec) -> Any:
    """The ``burgers`` table on the changelog of ``wire``. Faust derives table serializers
    from key/value types (JSON here), so the changelog topic (read on recovery) and the table
    (writes, store) get our codecs explicitly."""
    key_codec = _Utf8()
    state_codec = _State(state_codec=codec)
    changelog = app.topic(
        wire.changelog,
        key_serializer=key_codec,
        value_serializer=state_codec,
        partitions=partitions,
        compacting=True,
        deleting=False,
        internal=True,
        acks=True,  # the state must be as durable as the signals it explains
        maxsize=131_072,
        allow_empty=True,
    )
    table = app.Table(TABLE, partitions=partitions, changelog_topic=changelog)
    table.key_serializer = key_codec
    table.value_serializer = state_codec
    return table


class _AtPartition:
    """Stands in for the record being processed while the flush writes the table's local
    store (the commit task has none): Faust's stores read only ``message.partition``."""

    __slots__ = ("__weakref__", "message")

    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition)


def _processor(app: faust.App, table: Any, timeline_topic: Any, **kwargs: Any) -> Processor:
    """The :class:`Processor`, its :meth:`~Processor.flush` the app's commit hook
    (``streams.transactions.before_commit``). The flush writes the table (its local store,
    and the changelog in the citizen's partition — Faust's own ``table[key] = value`` needs
    the record being processed; a blank state deletes the entry, a tombstone on the
    changelog) and the timeline topic (``send_soon``; under exactly-once the
    snapshot joins its partition's transaction, see ``co_partitioned_outputs``)."""

    def store_state(subject: str, state: CitizenState, partition: int) -> Awaitable[Any]:
        # Faust's RocksDB store writes to the partition of the record being processed
        at = _AtPartition(partition)
        token = faust_streams._current_event.set(weakref.ref(at))
        try:
            table.data[subject] = state
        finally:
            faust_streams._current_event.reset(token)
        written: Awaitable[Any] = table.send_changelog(partition, subject, state)
        # what Faust's own table write does after its changelog send (streams.recovery
        # records there which partition the key belongs to)
        table._maybe_set_key_ttl(subject, partition)
        table._sensor_on_set(table, subject, state)
        return written  # done when the broker has it

    def delete_state(subject: str, partition: int) -> None:
        # what Faust's own ``del table[key]`` does (``Table.on_key_del``), in the partition
        # given: out of the local store, a tombstone on the changelog (recovery and
        # compaction drop the key), the key's partition forgotten
        at = _AtPartition(partition)
        token = faust_streams._current_event.set(weakref.ref(at))
        try:
            if subject in table.data:
                del table.data[subject]
        finally:
            faust_streams._current_event.reset(token)
        table.send_changelog(partition, subject, value=None, value_serializer="raw")
        table._maybe_del_key_ttl(subject, partition)
        table._sensor_on_del(table, subject)

    def queue_snapshot(**record: Any) -> None:
        timeline_topic.send_soon(**record)

    app.co_partitioned_outputs = {timeline_topic.get_topic_name()}
    processor = Processor(
        table=table,
        send_snapshot=timeline_topic.send,
        queue_snapshot=queue_snapshot,
        store_state=store_state,
        delete_state=delete_state,
        **kwargs,
    )
    app.before_commit = processor.flush
    app.signals_released = processor.released
    return processor


def _watch_broker(app: faust.App, bootstrap: str, metrics: WorkerMetrics) -> BrokerProbe:
    """Check every :data:`PROBE_INTERVAL_S` whether the broker answers (in a thread: a check
    may wait for a connection), for ``/ready`` and the ``broker_reachable`` gauge."""
    probe = BrokerProbe(bootstrap)

    @app.timer(interval=PROBE_INTERVAL_S)
    async def probe_broker() -> None:
        reachable = await asyncio.get_running_loop().run_in_executor(None, probe.check)
        metrics.broker_reachable.set(1 if reachable else 0)

    return probe


def create_app(
    settings: WorkerSettings,
    *,
    bootstrap: str,
    registry: SchemaRegistry,
    rules: RuleSet,
    clock_mode: ClockMode = "live",
) -> Worker:
    """Build the worker app for ``bootstrap`` on the given clock (``live`` or ``replay``),
    on the topics, changelog and consumer group of the namespace ``wire``."""
    partitions = settings.partitions
    wire = settings.wire()
    _correct_faust(settings, bootstrap)
    # an event that would make its citizen's state or snapshot larger than the output topics
    # take is dead-lettered before anything of it is written, and a dead letter that would not
    # fit is written without the original's value (streams/sizes.py)
    output_bytes = output_limit(topic_limits(bootstrap, sized_outputs(wire)).values())
    app = _faust_app(settings, bootstrap, wire.group_id, output_bytes)
    serializer = RecordSerializer(registry)
    deserializer = RecordDeserializer(registry)
    metrics = WorkerMetrics()

    raw = {
        "key_type": bytes,
        "value_type": bytes,
        "key_serializer": "raw",
        "value_serializer": "raw",
    }
    source = app.topic(*wire.event_topics, wire.klok, partitions=partitions, **raw)
    signal_topic = app.topic(wire.signalen, partitions=partitions, **raw)
    timeline_topic = app.topic(wire.tijdlijnen, partitions=partitions, **raw)
    klok_topic = app.topic(wire.klok, partitions=partitions, **raw)
    deadletter_topic = app.topic(
        wire.deadletter_streams, partitions=DEADLETTER_STREAMS.partitions(partitions), **raw
    )

    table = _table(app, wire, partitions, StateCodec(serializer, deserializer, wire.changelog))
    due = DueIndex()
    readmodel = ReadModel(bootstrap, deserializer, wire, embedded=settings.profile == "embedded")
    metrics.watch_open_signals(readmodel.open_per_rule)
    signal_source = settings.source_urn("schakel")

    def citizen_clock(state: CitizenState) -> date | None:
        return state.clock(processor.today())

    def periods(state: CitizenState) -> list[Period]:
        clock = citizen_clock(state)
        return derived_periods(state.timeline, clock) if clock else []

    processor = _processor(
        app,
        table,
        timeline_topic,
        wire=wire,
        engine=rules,
        serializer=serializer,
        deserializer=deserializer,
        send_signal=signal_topic.send,
        send_deadletter=deadletter_topic.send,
        metrics=metrics,
        clock_mode=clock_mode,
        history_limit=settings.history_limit,
        partitions=partitions,
        source=signal_source,
        on_due=due.push if clock_mode == "live" else (lambda subject, when: None),
        resend_redelivered=processing_guarantee(settings.profile) == "at_least_once",
        max_output_bytes=output_bytes,
        zone=settings.zone(),
    )

    @app.agent(source, concurrency=1)
    async def verwerk(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            async with record_scope(app, event):
                await processor.handle(
                    Message(
                        topic=msg.topic,
                        partition=msg.partition,
                        offset=msg.offset,
                        key=msg.key,
                        value=msg.value,
                        headers=list(msg.headers or ()),
                        timestamp=None if msg.timestamp is None else round(msg.timestamp * 1000),
                    )
                )
            highwater = app.consumer.highwater(msg.tp) if app.consumer else None
            if highwater is not None:
                metrics.lag.labels(msg.topic, str(msg.partition)).set(
                    max(0, highwater - msg.offset - 1)
                )

    if clock_mode == "live":

        @app.timer(interval=settings.timer_interval_s)
        async def klok() -> None:
            today = datetime.now(settings.zone()).date()
            if not due.built:
                for subject, state in list(table.items()):
                    when = rules.next_due(state.timeline, state.clock(today) or today)
                    if when is not None:
                        due.push(subject, when)
                due.built = True
            for subject in due.pop_due(today):
                value = serializer.encode(
                    wire.klok, KLOK_SCHEMA, {"subject": subject, "tot": today, "modus": "live"}
                )
                await klok_topic.send(
                    key=subject.encode(),
                    value=value,
                    headers=record_headers(
                        KLOK_SCHEMA, value, source=signal_source, subject=subject
                    ),
                )

    @app.on_before_shutdown.connect
    async def stop_readmodel(sender: Any, **kwargs: Any) -> None:
        readmodel.stop()

    probe = _watch_broker(app, bootstrap, metrics)

    def is_ready() -> bool:
        readmodel.start()
        recovery = app.tables.recovery if app.tables else None
        recovered = recovery is not None and recovery.completed.is_set()
        # not ready while a record waits for an outage (registry, broker) to end, nor while
        # the broker does not answer at all (an idle input cannot tell)
        return bool(
            recovered
            and readmodel.caught_up.is_set()
            and not app.rebalancing
            and not processor.unavailable
            and probe.reachable
        )

    register_ui(app)
    register_api(
        ApiContext(
            app=app,
            table=table,
            readmodel=readmodel,
            metrics=metrics,
            tokens=settings.tokens(),
            audit=AuditTrail(bootstrap, wire.inzage, serializer, signal_source),
            deserializer=deserializer,
            bootstrap=bootstrap,
            deadletter_topic=wire.deadletter_streams,
            configuration=worker_configuration(settings, rules, clock_mode),
            periods=periods,
            clock=citizen_clock,
            is_ready=is_ready,
            rule_ids=frozenset(rule.id for rule in rules.rules) | frozenset(rules.disabled),
        )
    )
    return Worker(app=app, processor=processor, readmodel=readmodel, metrics=metrics, due=due)
