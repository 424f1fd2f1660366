"""Makes the interpreter look as if started from a virtualenv (module
``_rundocs_venv``): used by the server's interpreter and the warm one of
process mode alike."""
import os
import site
import sys


def use(site_packages):
    """Makes the interpreter look as if started from the virtualenv whose
    ``site-packages`` is given: its packages importable, and only its own
    unless the virtualenv includes the system's; ``sys.prefix`` and
    ``sys.executable`` the virtualenv's."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(site_packages)))
    include_system = False
    try:
        with open(os.path.join(root, "pyvenv.cfg"), encoding="utf-8") as config:
            for line in config:
                key, _, value = line.partition("=")
                if key.strip().lower() == "include-system-site-packages":
                    include_system = value.strip().lower() == "true"
    except OSError:
        pass
    if not include_system:
        base = set(site.getsitepackages())
        user = site.getusersitepackages()
        sys.path[:] = [p for p in sys.path if p not in base and p != user]
        site.ENABLE_USER_SITE = False
    site.addsitedir(site_packages)
    sys.prefix = sys.exec_prefix = root
    executable = os.path.join(root, "bin", "python")
    if os.path.exists(executable):
        sys.executable = executable
