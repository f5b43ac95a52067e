"""A synthetic municipality for demos and end-to-end tests: life courses of citizens across the
four silos of the social domain, written in each silo's *native* format, with planted gaps of
every built-in rule and a ground truth to score the pipeline against.

Layout of the package (one concern per module):

- :mod:`~schakel.synth.model` — the plain data: facts, people, planted signals, near misses;
- :mod:`~schakel.synth.bsn` — synthetic BSNs that pass the elfproef;
- :mod:`~schakel.synth.life` — the builder that turns life events into catalogue facts;
- :mod:`~schakel.synth.population` — realistic background life courses (no gaps);
- :mod:`~schakel.synth.planted`, :mod:`~schakel.synth.nearmiss` — planted gaps (R1–R6)
  and near misses;
- :mod:`~schakel.synth.municipality` — puts a whole municipality together for a seed;
- :mod:`~schakel.synth.iwmo_xml`, :mod:`~schakel.synth.exports`,
  :mod:`~schakel.synth.cloudevents` — the native writers; :mod:`~schakel.synth.badrecords`
  the deliberately bad records; :mod:`~schakel.synth.output` writes everything to a directory;
- :mod:`~schakel.synth.truth` — ground truth and manifest, and scoring of found signals;
- :mod:`~schakel.synth.feed` — running the real adapters over the written files;
  :mod:`~schakel.synth.postgres` a throwaway PostgreSQL server for the outbox rows.

Nothing here reads or produces real personal data: every BSN is generated, every name and
address is invented. Assumptions and sources: ``docs/synthetic-municipality.md``.
"""

from schakel.synth.exceptions import SynthError
from schakel.synth.model import PERIOD_END, PERIOD_START, Municipality
from schakel.synth.municipality import build_municipality
from schakel.synth.output import write_municipality
from schakel.synth.truth import Score, load_ground_truth, score

__all__ = [
    "PERIOD_END",
    "PERIOD_START",
    "Municipality",
    "Score",
    "SynthError",
    "build_municipality",
    "load_ground_truth",
    "score",
    "write_municipality",
]
