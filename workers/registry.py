"""The workflow and activity lists a worker registers, and how its workflows run (sandbox, data converter);
the replay test uses the same lists, and the test workers the same runner."""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any, get_args

from pydantic import TypeAdapter
from sqlalchemy.orm import Session, sessionmaker
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import DataConverter
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.discounts import DiscountActivities
from activities.followups import FollowupActivities
from activities.refund import RefundActivities
from activities.retention import RetentionActivities
from activities.warnings import WarningActivities
from workflows.discount_approval import DiscountApprovalWorkflow
from workflows.mortgage import MortgageWorkflow
from workflows.payment_followup import PaymentFollowupWorkflow
from workflows.refund_case import RefundCaseWorkflow
from workflows.retention_sweep import RetentionSweepWorkflow
from workflows.warning_sweep import WarningSweepWorkflow

WORKFLOWS = [RefundCaseWorkflow, MortgageWorkflow, PaymentFollowupWorkflow, WarningSweepWorkflow, RetentionSweepWorkflow,
             DiscountApprovalWorkflow]


def activities(session_factory: sessionmaker[Session], *, data_dir: Path | None = None) -> list:
    """`data_dir`: where evidence files are (default: Settings.data_dir); the retention sweep removes them."""
    refund = RefundActivities(session_factory)
    followups = FollowupActivities(session_factory)
    warnings = WarningActivities(session_factory)
    retention = RetentionActivities(session_factory, data_dir=data_dir)
    discounts = DiscountActivities(session_factory)
    return [
        refund.apply_step,
        followups.apply_followup,
        followups.start_refund_from_followup,
        warnings.sweep_warnings,
        retention.anonymise_due_cases,
        discounts.apply_discount_step,
    ]


# ------------------------------------------------------------------ the workflow sandbox

# The packages whose modules are workflow definitions: the sandbox imports them afresh for every run.
WORKFLOW_PACKAGES = ("workflows",)
# Pure, stateless modules the workflows use: shared with the sandbox instead of re-imported per run. The
# workflows already import them inside `workflow.unsafe.imports_passed_through()`; naming them here keeps
# that true for a new import that forgets the block. (pydantic, pydantic_core, annotated_types,
# typing_extensions and the standard library pass through by default.)
SANDBOX_PASSTHROUGH = ("domain", "workflows.contracts", "workflows.followup_contracts")
SANDBOX_RESTRICTIONS = SandboxRestrictions.default.with_passthrough_modules(*SANDBOX_PASSTHROUGH)


class _CachedSourceLoader(importlib.machinery.SourceFileLoader):
    """A source loader that keeps each compiled module in memory, checked against the file's mtime and size
    as a .pyc would be."""

    _codes: dict[str, tuple[tuple[int, int], CodeType]] = {}
    _lock = threading.Lock()

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
        hit = self._codes.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        code = super().get_code(fullname)
        with self._lock:
            self._codes[path] = (stamp, code)
        return code


class WorkflowCodeCache(importlib.abc.MetaPathFinder):
    """The sandbox re-imports a workflow's module for every run: that isolates the run's module state. Python
    then compiles the module's source each time unless a .pyc can be used, and here none is written
    (PYTHONDONTWRITEBYTECODE, as in the image, whose code is read-only anyway): the compile was the largest
    single cost of a new run (~10% of the worker's CPU in make bench). This finder gives those modules a
    loader that compiles each file once per process. Each run still executes the module into fresh globals;
    only the compile is shared (code objects are immutable)."""

    def __init__(self, packages: tuple[str, ...]) -> None:
        self.packages = packages

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _CachedSourceLoader(spec.loader.name, spec.loader.path)
        return spec


def install_workflow_code_cache() -> None:
    """Once per process; a no-op when already installed."""
    if not any(isinstance(f, WorkflowCodeCache) for f in sys.meta_path):
        sys.meta_path.insert(0, WorkflowCodeCache(WORKFLOW_PACKAGES))


class _ContextFreeInstance(WorkflowInstance):
    """A sandboxed run whose payloads need no serialization context: the worker asks the run for one for each
    payload sequence of every activation and completion (to hand a payload codec or an external store the
    workflow or activity it belongs to), and the sandbox answers each question by executing code inside the
    sandbox (~20% of the worker's CPU in make bench). With no codec and no external storage, every one of
    those steps is a no-op whatever the context, so this answers None (the context-free converter) at once."""

    def __init__(self, run: WorkflowInstance) -> None:
        self._run = run

    def activate(self, act: Any) -> Any:
        return self._run.activate(act)

    def get_serialization_context(self, command_info: Any) -> None:
        return None

    def get_external_store_context(self, command_info: Any) -> Any:
        return None

    def get_info(self) -> Any:
        return self._run.get_info()

    def get_thread_id(self) -> int | None:
        return self._run.get_thread_id()


@dataclass(frozen=True)
class CodecFreeSandboxedWorkflowRunner(SandboxedWorkflowRunner):
    """The sandbox, for a worker whose data converter has no payload codec and no external storage."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextFreeInstance(super().create_instance(det))


def workflow_runner(converter: DataConverter) -> SandboxedWorkflowRunner:
    """The sandbox every worker runs the workflows in: production (workers.main.build_worker) and the tests'
    workers, so that both run them the same way. `converter` is the worker's client's data converter."""
    install_workflow_code_cache()
    if converter.payload_codec is None and converter.external_storage is None:
        return CodecFreeSandboxedWorkflowRunner(restrictions=SANDBOX_RESTRICTIONS)
    return SandboxedWorkflowRunner(restrictions=SANDBOX_RESTRICTIONS)


# ------------------------------------------------------------------ the data converter

# pydantic TypeAdapters (a type's schema, costly to build) shared by every workflow run of the process.
# temporalio.contrib.pydantic caches them per converter instance, but a worker makes a new payload converter
# for every run, so each run rebuilt the adapters of its input and of every update's argument (~7% of the
# worker's CPU in make bench). Only types from modules the sandbox passes through are shared: they are the
# same objects in every run. A type defined in a workflow's own module (warning_sweep.SweepSummary) is a new
# class in each run, so it keeps the per-run cache, and no run is kept alive by the shared one.
_shared_type_adapter = functools.lru_cache(maxsize=1024)(TypeAdapter)


def _passed_through(module: str) -> bool:
    names = SANDBOX_RESTRICTIONS.passthrough_modules
    return module in names or any(module[:i] in names for i, c in enumerate(module) if c == ".")


def _same_in_every_run(hint: Any) -> bool:
    if hint is Ellipsis:  # tuple[X, ...]
        return True
    module = getattr(hint, "__module__", None)
    if not isinstance(module, str) or not _passed_through(module):
        return False
    return all(_same_in_every_run(arg) for arg in get_args(hint))


class _TypeAdapters:
    """A converter's TypeAdapter look-up: the process-wide cache for shared types, its own otherwise."""

    def __init__(self, own: Any) -> None:
        self.own = own

    def __call__(self, hint: Any) -> TypeAdapter[Any]:
        return _shared_type_adapter(hint) if _same_in_every_run(hint) else self.own(hint)

    def cache_info(self) -> Any:  # PydanticJSONPlainPayloadConverter.__getstate__ asks for it
        return self.own.cache_info()


class SharedCachePydanticPayloadConverter(PydanticPayloadConverter):
    """temporalio's pydantic payload converter (the same JSON, byte for byte) with the shared TypeAdapters."""

    def __init__(self) -> None:
        super().__init__()
        for converter in self.converters.values():
            if isinstance(converter, PydanticJSONPlainPayloadConverter):
                converter._type_adapter = _TypeAdapters(converter._type_adapter)


# What workers.main connects with; it reads and writes exactly what temporalio's pydantic_data_converter
# does (the client, the API, the tests and the replayer use that one).
data_converter = DataConverter(payload_converter_class=SharedCachePydanticPayloadConverter)
