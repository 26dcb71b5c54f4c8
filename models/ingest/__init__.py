"""Ingest: from an uploaded file to a validated, typed frame and its quality report.

The steps, one module each: ``sniff`` (encoding, delimiter, header → text columns),
``columns`` (matching headers or content to the canonical names, with ``synonyms``),
``values`` (vectorised dates and numbers), ``report`` (the validation report and
:class:`IngestError`) and ``readers`` (:func:`read_transactions`,
:func:`read_customers`); ``preview`` shows what ingest would detect from the head of
a file alone (:func:`preview`). Import from this package; the modules are its parts.
"""

from models.ingest.preview import preview
from models.ingest.readers import IngestResult, read_customers
from models.ingest.report import IngestError, Problem, ValidationReport
from models.ingest.transactions import read_transactions

__all__ = ["IngestError", "IngestResult", "Problem", "ValidationReport", "preview",
           "read_customers", "read_transactions"]
