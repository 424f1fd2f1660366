"""State a run may change, put back before the next run starts.

Installed once as module ``_rundocs_state``. ``save()`` records the state at
start-up. ``restore_thread()`` runs on the worker after every run and puts
back the worker's own working directory and umask; ``restore()`` then undoes
what the run changed in process-wide state. Both are cheap: each part is compared first and only
rewritten when it differs. What is covered: builtins, ``sys.path``, ``sys.meta_path``
and ``sys.path_hooks``, the standard modules in ``sys.modules`` (modules a
run imported stay imported), the switch interval, recursion limit and
int-to-string digit limit, the trace and profile hooks, ``sys.excepthook``,
``displayhook``, ``unraisablehook`` and ``breakpointhook``,
``threading.excepthook``, the thread stack size, the working directory,
the environment (and with it the time zone), the umask, the locale,
warnings filters and hooks, the logging configuration, the garbage
collector's settings and callbacks, the socket default timeout and
faulthandler.

Concurrent runs still share these while they run; the README says so.
"""

import builtins
import faulthandler
import gc
import locale
import logging
import os
import sys
import threading
import time
import warnings

_saved = {}

# sys attributes that are hooks a run may replace.
_SYS_HOOKS = ("excepthook", "displayhook", "unraisablehook", "breakpointhook")


def save():
    """Records the state that restore() puts back. Called once at start-up,
    after the runtime has installed its own patches."""
    _saved["switch_interval"] = sys.getswitchinterval()
    _saved["recursion_limit"] = sys.getrecursionlimit()
    _saved["int_max_str_digits"] = getattr(sys, "get_int_max_str_digits", lambda: None)()
    _saved["builtins"] = dict(builtins.__dict__)
    _saved["path"] = list(sys.path)
    _saved["meta_path"] = list(sys.meta_path)
    _saved["path_hooks"] = list(sys.path_hooks)
    _saved["modules"] = dict(sys.modules)
    _saved["sys_hooks"] = {name: getattr(sys, name) for name in _SYS_HOOKS}
    _saved["threading_excepthook"] = threading.excepthook
    _saved["stack_size"] = threading.stack_size()
    _saved["cwd"] = os.getcwd()
    _saved["environ"] = dict(os.environ._data)
    umask = os.umask(0o022)
    os.umask(umask)
    _saved["umask"] = umask
    _saved["locale"] = locale.setlocale(locale.LC_ALL)
    _saved["warnings"] = (list(warnings.filters), warnings.showwarning,
                          warnings.formatwarning, warnings.defaultaction,
                          dict(warnings.onceregistry))
    _saved["gc"] = (gc.isenabled(), gc.get_threshold(), gc.get_debug(), list(gc.callbacks))
    _saved["faulthandler"] = faulthandler.is_enabled()
    _save_logging()


def original_hook(name):
    """The ``sys`` hook ``name`` (``excepthook``, ...) as it was at start-up."""
    return _saved["sys_hooks"][name]


def restore_thread():
    """Undoes what a run changed in the calling worker's own state: its
    working directory and umask (each worker has file-system state of its
    own, shared with the threads its runs start)."""
    if os.getcwd() != _saved["cwd"]:
        os.chdir(_saved["cwd"])
    os.umask(_saved["umask"])


def restore():
    """Undoes what runs changed in process-wide state (see module doc)."""
    _restore_sys()
    _restore_modules()
    _restore_process()
    _restore_warnings()
    _restore_logging()
    _restore_gc()
    _restore_optional_modules()


def _restore_sys():
    if sys.getswitchinterval() != _saved["switch_interval"]:
        sys.setswitchinterval(_saved["switch_interval"])
    if sys.getrecursionlimit() != _saved["recursion_limit"]:
        sys.setrecursionlimit(_saved["recursion_limit"])
    digits = _saved["int_max_str_digits"]
    if digits is not None and sys.get_int_max_str_digits() != digits:
        sys.set_int_max_str_digits(digits)
    threading.settrace(None)
    threading.setprofile(None)
    for name, hook in _saved["sys_hooks"].items():
        if getattr(sys, name) is not hook:
            setattr(sys, name, hook)
    if threading.excepthook is not _saved["threading_excepthook"]:
        threading.excepthook = _saved["threading_excepthook"]
    threading.stack_size(_saved["stack_size"])
    original_builtins = _saved["builtins"]
    current = builtins.__dict__
    if current == original_builtins:  # compared in C; values by identity first
        return _restore_paths()
    for name in [n for n in list(current) if n not in original_builtins]:
        del current[name]
    for name, value in original_builtins.items():
        if current.get(name, _saved) is not value:
            current[name] = value
    _restore_paths()


def _restore_paths():
    for name in ("path", "meta_path", "path_hooks"):
        if getattr(sys, name) != _saved[name]:
            getattr(sys, name)[:] = _saved[name]


def _restore_modules():
    modules = sys.modules
    saved = _saved["modules"]
    # Every module of start-up still in place (checked in C) and no None
    # entries added: nothing to do.
    if modules.items() >= saved.items() and None not in modules.values():
        return
    for name, module in saved.items():
        if modules.get(name) is not module:
            modules[name] = module
    # `sys.modules[name] = None` blocks later imports of a module that was
    # not loaded at start-up: drop such entries so the next import works.
    for name in [n for n, m in list(modules.items()) if m is None and n not in saved]:
        del modules[name]


def _restore_process():
    saved_environ = _saved["environ"]
    if os.environ._data != saved_environ:
        time_zone_changed = os.environ._data.get(b"TZ") != saved_environ.get(b"TZ")
        for key in [k for k in list(os.environ._data) if k not in saved_environ]:
            os.unsetenv(key)
            del os.environ._data[key]
        for key, value in saved_environ.items():
            if os.environ._data.get(key) != value:
                os.putenv(key, value)
                os.environ._data[key] = value
        if time_zone_changed:
            time.tzset()
    if locale.setlocale(locale.LC_ALL) != _saved["locale"]:
        locale.setlocale(locale.LC_ALL, _saved["locale"])


def _restore_warnings():
    filters, showwarning, formatwarning, defaultaction, onceregistry = _saved["warnings"]
    if warnings.filters != filters:
        warnings.filters[:] = filters
        warnings._filters_mutated()
    warnings.showwarning = showwarning
    warnings.formatwarning = formatwarning
    warnings.defaultaction = defaultaction
    if warnings.onceregistry != onceregistry:
        warnings.onceregistry.clear()
        warnings.onceregistry.update(onceregistry)


def _logger_state(logger):
    return (logger.level, list(logger.handlers), logger.propagate, logger.disabled,
            list(logger.filters))


def _save_logging():
    manager = logging.Logger.manager
    _saved["logging"] = (
        _logger_state(logging.root),
        {name: _logger_state(logger) for name, logger in manager.loggerDict.items()
         if isinstance(logger, logging.Logger)},
        manager.disable,
        manager.loggerClass,
        logging.getLogRecordFactory(),
        logging.lastResort,
        logging.raiseExceptions,
        (dict(logging._levelToName), dict(logging._nameToLevel)),
    )


def _put_logger_back(logger, state):
    level, handlers, propagate, disabled, filters = state
    if logger.handlers != handlers:
        for handler in logger.handlers:
            if handler not in handlers:
                _close_handler(handler)
        logger.handlers[:] = handlers
    logger.level = level
    logger.propagate = propagate
    logger.disabled = disabled
    if logger.filters != filters:
        logger.filters[:] = filters


def _close_handler(handler):
    try:
        handler.close()
    except Exception:
        pass


def _restore_logging():
    root, loggers, disable, logger_class, record_factory, last_resort, raise_exceptions, level_names = _saved["logging"]
    manager = logging.Logger.manager
    changed = False
    if _logger_state(logging.root) != root:
        _put_logger_back(logging.root, root)
        changed = True
    for name, logger in list(manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue
        state = loggers.get(name)
        if state is None:
            # Made by a run (or by a module it imported): as getLogger made it.
            state = (logging.NOTSET, [h for h in logger.handlers if isinstance(h, logging.NullHandler)],
                     True, False, [])
        if _logger_state(logger) != state:
            _put_logger_back(logger, state)
            changed = True
    if manager.disable != disable:
        logging.disable(disable)
    manager.loggerClass = logger_class
    if logging.getLogRecordFactory() is not record_factory:
        logging.setLogRecordFactory(record_factory)
    logging.lastResort = last_resort
    logging.raiseExceptions = raise_exceptions
    to_name, to_level = level_names
    if logging._levelToName != to_name or logging._nameToLevel != to_level:
        logging._levelToName.clear()
        logging._levelToName.update(to_name)
        logging._nameToLevel.clear()
        logging._nameToLevel.update(to_level)
    if changed:
        manager._clear_cache()


def _restore_gc():
    enabled, threshold, debug, callbacks = _saved["gc"]
    if gc.isenabled() != enabled:
        (gc.enable if enabled else gc.disable)()
    if gc.get_threshold() != threshold:
        gc.set_threshold(*threshold)
    if gc.get_debug() != debug:
        gc.set_debug(debug)
    if gc.callbacks != callbacks:
        gc.callbacks[:] = callbacks


def _restore_optional_modules():
    socket = sys.modules.get("socket")
    if socket is not None and socket.getdefaulttimeout() is not None:
        socket.setdefaulttimeout(None)
    faulthandler.cancel_dump_traceback_later()
    if faulthandler.is_enabled() != _saved["faulthandler"]:
        faulthandler.disable()


def reseed_random():
    """Gives the run a freshly seeded global ``random``, as a new process has."""
    random = sys.modules.get("random")
    if random is not None:
        # 128 bits from the system: a tenth of the cost of seed(), which
        # reads 2.5 KB of them.
        random.seed(int.from_bytes(os.urandom(16), "little"))
