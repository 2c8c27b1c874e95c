"""Running the reader's function safely, with the library shortcuts of an exercise disabled.

When an exercise asks the reader to write X, calling a library function that does X is not
an answer. :class:`Guard` calls the reader's function with every such function replaced by a
stub that raises :class:`ForbiddenCall` ("this exercise asks you to write it yourself: do not
call ..."), and it also watches, with a profile hook, for calls of the original functions
through names bound before the check (``from numpy.linalg import svd``). Everything is put
back in a ``finally`` block, whatever the reader's function does.
"""

import importlib
import inspect
import pkgutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._feedback import CheckerCalled, NotAttempted, safe_str


class ForbiddenCall(Exception):
    """Raised by the stub that stands in for a function the exercise asks the reader to write."""


def forbidden_words(label):
    return f"this exercise asks you to write it yourself: do not call {label}"


@dataclass(frozen=True)
class Rule:
    """Forbid ``module.attr``, shown as ``label``; with ``when``, only calls whose arguments
    (a dict, by parameter name, defaults filled in) satisfy it."""

    module: str
    attr: str
    label: str
    when: object = None


@dataclass(frozen=True)
class ModuleRule:
    """Forbid every function defined in ``module`` (shown as ``module.name``)."""

    module: str


def _implementation(obj):
    """The Python function behind ``obj`` (numpy's dispatchers wrap one), or None."""
    impl = getattr(obj, "_implementation", None) or obj
    return impl if inspect.isfunction(impl) else None


def _holds(when, arguments):
    try:
        return bool(when(arguments))
    except Exception:  # noqa: BLE001  (odd arguments: let the real function judge them)
        return False


def matrix_two_norm(arguments):
    """Whether a call of ``norm(x, ord, axis)`` asks for a matrix 2-norm (or its kin)."""
    order = arguments.get("ord")
    if isinstance(order, str):
        spectral = order == "nuc"
    else:
        spectral = isinstance(order, (int, float, np.integer, np.floating)) and order in (2, -2)
    if not spectral:
        return False
    axis = arguments.get("axis")
    x = arguments.get("x", arguments.get("a"))
    return (axis is None and np.ndim(x) == 2) or (isinstance(axis, tuple) and len(axis) == 2)


def spectral_order(arguments):
    """Whether a call of ``matrix_norm(x, ord)`` asks for the 2-norm (or its kin)."""
    return arguments.get("ord") in (2, -2, "nuc")


class RemoteFunction:
    """A reader's function that runs in another process (see the grading command).

    :meth:`Guard.call` hands a call of such a function to its ``guarded_call(rules, args,
    record_warnings)``, which runs it there under the same rules and returns a :class:`Call`,
    so that a checker's own code and data never share a process with the reader's code.
    """

    def guarded_call(self, rules, args, record_warnings):  # pragma: no cover  (abstract)
        raise NotImplementedError


@dataclass
class Call:
    """What one call of the reader's function gave."""

    value: object = None
    error: str = None  # "raised ZeroDivisionError: division by zero"
    forbidden: str = None  # label of the first forbidden function it called
    warnings: list = field(default_factory=list)
    not_attempted: bool = False  # it raised NotImplementedError, as a stub does


#: The checkers' own modules, every module of this package but the guard's: their reference
#: computations are never an answer, in any exercise.
CHECKER_MODULES = tuple(sorted(f"{__package__}.{module.name}"
                               for module in pkgutil.iter_modules([str(Path(__file__).parent)])
                               if module.name != "_forbid"))


#: One rule per checker module, added to every guard's own rules.
_CHECKER_RULES = tuple(ModuleRule(name) for name in CHECKER_MODULES)


class Guard:
    """Calls the reader's function with the functions named by ``rules`` disabled, and the
    functions of the checkers' own modules (:data:`CHECKER_MODULES`) as well."""

    def __init__(self, rules=()):
        self.rules = tuple(rules)

    def _install(self, hits):
        """Patch in the stubs; return (undo list, code -> (label, when), source file -> module name)."""
        undo, codes, modules = [], {}, {}
        for rule in self.rules + _CHECKER_RULES:
            module = sys.modules.get(rule.module)
            if module is None and rule.module.startswith("gradcourse."):
                module = importlib.import_module(rule.module)
            if module is None:  # a library the reader has not imported: nothing to disable
                continue
            if isinstance(rule, ModuleRule):
                modules[getattr(module, "__file__", None)] = rule.module
                for name, obj in list(vars(module).items()):
                    if inspect.isfunction(obj) and obj.__module__ == rule.module:
                        undo.append((module, name, obj))
                        setattr(module, name, _stub(f"{rule.module}.{name}", obj, None, hits))
                continue
            original = getattr(module, rule.attr, None)
            if original is None:
                continue
            impl = _implementation(original)
            if impl is not None:
                codes[impl.__code__] = (rule.label, rule.when)
            undo.append((module, rule.attr, original))
            setattr(module, rule.attr, _stub(rule.label, original, rule.when, hits, impl))
        return undo, codes, modules

    def call(self, fn, args, *, record_warnings=False):
        """Call ``fn(*args)``; raises only ``KeyboardInterrupt`` and :class:`NotAttempted`.

        Floating-point problems are silenced (a NaN or inf result is judged by its value),
        unless ``record_warnings``: then overflow, division by zero and invalid operations
        warn, and the warnings are collected in ``Call.warnings``. A function that raises
        NotImplementedError (a stub not yet filled in) makes the whole check "not attempted":
        :class:`NotAttempted` propagates to the checker's :func:`never_raises` wrapper.
        """
        if isinstance(fn, RemoteFunction):
            result = fn.guarded_call(self.rules, args, record_warnings)
        else:
            result = self.call_here(fn, args, record_warnings=record_warnings)
        if result.not_attempted:
            raise NotAttempted(f"the function still {result.error.replace('raised', 'raises', 1)}.")
        if result.forbidden and result.forbidden.startswith(CHECKER_MODULES):
            raise CheckerCalled(f"the function called {result.forbidden}, a part of the checker itself: "
                                "write the computation yourself.")
        return result

    def call_here(self, fn, args, *, record_warnings=False):
        """:meth:`call` in this process; never raises (except ``KeyboardInterrupt``)."""
        result, hits, caught = Call(), [], []
        undo, codes, modules = [], {}, {}
        hooked, raised = False, None
        try:
            undo, codes, modules = self._install(hits)
            if (codes or modules) and sys.getprofile() is None:
                sys.setprofile(_hook(codes, modules, hits))
                hooked = True
            with warnings.catch_warnings(record=True) as caught:  # noqa: F841  (read below)
                warnings.simplefilter("always" if record_warnings else "ignore")
                states = {"over": "warn", "divide": "warn", "invalid": "warn", "under": "ignore"}
                with np.errstate(**(states if record_warnings else {"all": "ignore"})):
                    result.value = fn(*args)
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001  (the reader's code may fail in any way)
            raised = err
        finally:
            if hooked:
                sys.setprofile(None)
            for module, name, original in reversed(undo):
                setattr(module, name, original)
        if raised is not None:  # described once nothing is patched or watched any more
            text = safe_str(raised)
            result.error = f"raised {type(raised).__name__}: {text}" if text else f"raised {type(raised).__name__}"
            result.not_attempted = isinstance(raised, NotImplementedError)
        result.warnings = [safe_str(w.message) for w in caught] if record_warnings else []
        result.forbidden = hits[0] if hits else None
        return result


def _stub(label, original, when, hits, impl=None):
    """A stand-in for ``original`` that refuses (or, if ``when`` says the call is fine, delegates)."""
    signature = None
    if when is not None:
        try:
            signature = inspect.signature(impl or original)
        except (TypeError, ValueError):
            signature = None

    def stub(*args, **kwargs):
        if when is not None:
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                refuse = _holds(when, bound.arguments)
            except Exception:  # noqa: BLE001  (a bad call: the real function says why)
                refuse = False
            if not refuse:
                return original(*args, **kwargs)
        hits.append(label)
        raise ForbiddenCall(forbidden_words(label))

    stub.__name__ = getattr(original, "__name__", "stub")
    stub.__doc__ = f"Disabled by the exercise checker: {forbidden_words(label)}."
    return stub


def _hook(codes, modules, hits):
    """A profile function that notes calls of forbidden functions made through any name."""

    def hook(frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        entry = codes.get(code)
        if entry is not None:
            label, when = entry
            if when is None or _holds(when, dict(frame.f_locals)):
                hits.append(label)
            return
        if not modules:
            return
        module = modules.get(code.co_filename)  # code written in a forbidden module's file
        if module is not None and code.co_name != "<module>":
            hits.append(f"{module}.{code.co_name}")

    return hook


#: Functions that compute a matrix's singular values or its 2-norm in one call.
SINGULAR_VALUES = tuple(
    [Rule("numpy.linalg", name, f"np.linalg.{name}") for name in ("svd", "svdvals", "eig", "eigh", "eigvals", "eigvalsh")]
    + [Rule("numpy.linalg", name, f"np.linalg.{name}") for name in ("lstsq", "pinv", "cond", "matrix_rank")]
    + [Rule("numpy.linalg._umath_linalg", name, "numpy's LAPACK routines")
       for name in ("svd", "svd_f", "svd_s", "svd_n", "svd_m", "eig", "eigvals", "eigh_lo", "eigh_up",
                    "eigvalsh_lo", "eigvalsh_up", "lstsq")]
    + [Rule("numpy.linalg", "norm", "np.linalg.norm(A, 2)", matrix_two_norm),
       Rule("numpy.linalg", "matrix_norm", "np.linalg.matrix_norm(A, ord=2)",
            spectral_order)]
    + [Rule("scipy.linalg", name, f"scipy.linalg.{name}") for name in ("svd", "svdvals", "eig", "eigh", "eigvals", "eigvalsh")]
    + [Rule("scipy.linalg", "norm", "scipy.linalg.norm(A, 2)", matrix_two_norm)]
    + [Rule("scipy.sparse.linalg", name, f"scipy.sparse.linalg.{name}") for name in ("svds", "eigs", "eigsh")]
)
