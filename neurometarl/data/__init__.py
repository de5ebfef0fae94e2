"""Data: the long trial table (validation, reading), the registry of other people's datasets (fetched
from their source and verified, never shipped), readers for them, and the converter from neurometarl
recordings, so models and analyses treat agents, baselines and animals alike."""

from .convert import recording_to_table
from .datasets import TABLES, load_hbayesdm, load_rat_twostep
from .monkey import monkey_sessions, monkey_table, read_monkey_session
from .registry import DATASETS, dataset_folder, fetch, get_dataset
from .table import REQUIRED_COLUMNS, as_table, prepare_table, read_table, validate_table

__all__ = [
    "REQUIRED_COLUMNS", "validate_table", "prepare_table", "read_table", "as_table", "recording_to_table",
    "load_rat_twostep", "load_hbayesdm", "TABLES", "DATASETS", "get_dataset", "fetch", "dataset_folder",
    "read_monkey_session", "monkey_sessions", "monkey_table",
]
