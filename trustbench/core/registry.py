"""Registries of families and methods, and the loaders for method plugins.

Methods reach the registry in three ways, all through `register_method`: built-in
modules and third-party distributions declare a module in the entry-point group
``trustbench.methods``, and a single Python file can be loaded with `load_plugin_file`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from trustbench.core.errors import PluginError, RegistryError
from trustbench.core.method import KINDS, Method

if TYPE_CHECKING:
    from trustbench.core.family import Family

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "trustbench.methods"
BUILTIN_FAMILIES = ("unlearning", "personalization", "resurgence")

_families: dict[str, Family] = {}
_methods: dict[str, dict[str, type[Method]]] = {}
_loading_source: list[str] = []
_entry_points_loaded = False
_loaded_files: dict[Path, str] = {}

M = TypeVar("M", bound=type[Method])


def register_family(family: Family) -> Family:
    """Add a family instance to the registry and return it."""
    _families[family.name] = family
    _methods.setdefault(family.name, {})
    return family


def get_family(name: str) -> Family:
    """Return the registered family ``name``, importing a built-in one on first use.

    Raises
    ------
    RegistryError
        If no family of that name exists, or a built-in family fails to import (for
        example because an optional dependency of its extra is missing).
    """
    if name not in _families and name in BUILTIN_FAMILIES:
        try:
            importlib.import_module(f"trustbench.families.{name}")
        except ImportError as error:
            raise RegistryError(
                f"family {name!r} failed to import ({type(error).__name__}: {error}); "
                'reinstall with pip install -e ".[dev]" or install the missing package'
            ) from error
    if name not in _families:
        known = ", ".join(sorted(set(BUILTIN_FAMILIES) | set(_families)))
        raise RegistryError(f"unknown family {name!r}; available families: {known}")
    return _families[name]


def list_families() -> list[Family]:
    """Return every built-in and registered family that imports, sorted by name.

    A built-in family that fails to import is logged and left out, so that one broken
    family does not hide the others. `get_family` raises the import error instead.
    """
    for name in BUILTIN_FAMILIES:
        try:
            get_family(name)
        except RegistryError as error:
            logger.error("%s", error)
    return [_families[name] for name in sorted(_families)]


def register_method(family: str, name: str, *, kind: str = "baseline") -> Callable[[M], M]:
    """Register a `Method` subclass for a family.

    Parameters
    ----------
    family : str
        Name of the family whose interface the class implements.
    name : str
        Name used on the command line and in leaderboards; unique within the family.
    kind : {"proposed", "baseline", "reference"}
        The method's role in the family's claims.

    Returns
    -------
    callable
        A class decorator that returns the class unchanged apart from its
        ``name``, ``family``, ``kind`` and ``source`` attributes.

    Raises
    ------
    RegistryError
        If the family is unknown, the kind is invalid, the name is taken by another
        class, or the class lacks a method of the family's interface.

    Examples
    --------
    >>> from trustbench import Method, register_method
    >>> @register_method("unlearning", "doc_example_noop", kind="reference")
    ... class DocNoop(Method):
    ...     def fit(self, problem):
    ...         self.theta = problem.theta
    ...     def delete(self, indices):
    ...         return self.theta
    """
    if kind not in KINDS:
        raise RegistryError(
            f"invalid kind {kind!r} for method {name!r}; expected one of {', '.join(KINDS)}"
        )
    target = get_family(family)

    def decorate(cls: M) -> M:
        if not (isinstance(cls, type) and issubclass(cls, Method)):
            raise RegistryError(
                f"method {name!r} must be a subclass of trustbench.Method, got {cls!r}"
            )
        _check_interface(target, name, cls)
        existing = _methods[family].get(name)
        if existing is not None and _qualified(existing) != _qualified(cls):
            raise RegistryError(
                f"method name {name!r} in family {family!r} is already taken by "
                f"{_qualified(existing)} ({existing.source}); choose another name"
            )
        cls.name = name
        cls.family = family
        cls.kind = kind
        cls.source = _loading_source[-1] if _loading_source else f"module {cls.__module__}"
        _methods[family][name] = cls
        return cls

    return decorate


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_interface(family: Family, name: str, cls: type[Method]) -> None:
    for required in family.interface:
        member = getattr(cls, required, None)
        if member is None or not callable(member):
            raise RegistryError(
                f"method {name!r} does not implement {required!r}, which family "
                f"{family.name!r} requires (interface: {', '.join(family.interface)}); "
                f"add a method {required}() to {cls.__qualname__}"
            )


def get_method(family: str, name: str) -> type[Method]:
    """Return the method class ``name`` of ``family``.

    Raises
    ------
    RegistryError
        If the family or the method is unknown.
    """
    get_family(family)
    load_entry_points()
    methods = _methods.get(family, {})
    if name not in methods:
        known = ", ".join(sorted(methods)) or "none"
        raise RegistryError(
            f"unknown method {name!r} for family {family!r}; available methods: {known} "
            "(a third-party method needs --plugin FILE or an installed entry point)"
        )
    return methods[name]


def list_methods(family: str) -> list[type[Method]]:
    """Return the methods registered for ``family``, sorted by name."""
    get_family(family)
    load_entry_points()
    return [cls for _, cls in sorted(_methods.get(family, {}).items())]


@contextlib.contextmanager
def _source(label: str) -> Iterator[None]:
    _loading_source.append(label)
    try:
        yield
    finally:
        _loading_source.pop()


def load_entry_points() -> None:
    """Import every module declared in the ``trustbench.methods`` entry-point group once.

    Raises
    ------
    PluginError
        If an entry point fails to import; the message names it and its distribution.
    """
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry_point.dist.name if entry_point.dist is not None else "unknown"
        label = f"entry point {entry_point.name} ({dist})"
        try:
            with _source(label):
                entry_point.load()
        except RegistryError as error:
            raise PluginError(f"plugin {label} is invalid: {error}") from error
        except Exception as error:  # a broken third-party module may raise anything
            raise PluginError(
                f"failed to load plugin {label} = {entry_point.value!r}: "
                f"{type(error).__name__}: {error}; fix or uninstall {dist}"
            ) from error


def load_plugin_file(path: str | Path) -> str:
    """Import a Python file whose module registers methods, and return its module name.

    The same file is imported once per process, so repeated calls are cheap.

    Raises
    ------
    PluginError
        If the file does not exist, is not a ``.py`` file, or fails to import.
    """
    resolved = Path(path).expanduser().resolve()
    if resolved in _loaded_files:
        return _loaded_files[resolved]
    if not resolved.is_file() or resolved.suffix != ".py":
        raise PluginError(f"plugin file {str(path)!r} not found; pass the path of a .py file")
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    module_name = f"trustbench_plugin_{resolved.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        with _source(f"file {resolved}"):
            spec.loader.exec_module(module)
    except RegistryError as error:
        del sys.modules[module_name]
        raise PluginError(f"plugin file {str(path)!r} is invalid: {error}") from error
    except Exception as error:  # a broken plugin file may raise anything
        del sys.modules[module_name]
        raise PluginError(
            f"failed to load plugin file {str(path)!r}: {type(error).__name__}: {error}"
        ) from error
    _loaded_files[resolved] = module_name
    logger.info("loaded plugin file %s", resolved)
    return module_name


def loaded_plugin_files() -> list[str]:
    """Return the plugin files loaded so far, so worker processes can load them again."""
    return [str(path) for path in _loaded_files]


def method_code_hash(cls: type[Method]) -> str:
    """Return a hash of the source files that define ``cls`` and its bases below `Method`.

    The hash enters every cell key, so editing a method's module recomputes its cells.
    Helpers that live in a family's package are covered by that family's own code hash.
    When a source file cannot be found (a class defined interactively), the qualified
    name is hashed instead.
    """
    digest = hashlib.sha256()
    for klass in cls.__mro__:
        if klass is Method or klass is object:
            break
        try:
            digest.update(Path(inspect.getfile(klass)).read_bytes())
        except (OSError, TypeError):
            digest.update(_qualified(klass).encode())
    return digest.hexdigest()[:16]
