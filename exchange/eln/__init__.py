"""The .eln exchange format (ELN Consortium; RO-Crate 1.1 in a ZIP). Pure Python, no Django."""

from .model import LEDGER_RECORD, MEDIA_TYPE, ElnArchive, ElnDataset, ElnFile, Person, Property
from .reader import ElnError, Limits, read_eln
from .writer import safe_name, write_eln

__all__ = ["LEDGER_RECORD", "MEDIA_TYPE", "ElnArchive", "ElnDataset", "ElnError", "ElnFile", "Limits", "Person",
           "Property", "read_eln", "safe_name", "write_eln"]
