"""The lab: run subjects on protocols with weights frozen, record sessions, save and load them."""

from .perturb import (ClampRPE, ClampUnits, Event, PerturbedSubject, RemoveInput, ShiftRPE, SilenceUnits,
                      perturb)
from .schema import RecordingSchemaError, load_recording, save_recording, validate_recording
from .session import compute_rpe, record_session, sample_actions
from .subject import Subject

__all__ = [
    "Subject", "record_session", "sample_actions", "compute_rpe",
    "perturb", "PerturbedSubject", "Event", "ShiftRPE", "ClampRPE", "ClampUnits", "SilenceUnits", "RemoveInput",
    "validate_recording", "save_recording", "load_recording", "RecordingSchemaError",
]
