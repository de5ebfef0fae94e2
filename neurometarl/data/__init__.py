"""Behavioural data: the long trial table (validation, reading), shipped datasets, and the converter
from neurometarl recordings, so models and analyses treat agents, baselines and animals alike."""

from .convert import recording_to_table
from .datasets import datasets_root, load_hbayesdm, load_rat_twostep
from .table import REQUIRED_COLUMNS, as_table, prepare_table, read_table, validate_table

__all__ = [
    "REQUIRED_COLUMNS", "validate_table", "prepare_table", "read_table", "as_table", "recording_to_table",
    "load_rat_twostep", "load_hbayesdm", "datasets_root",
]
