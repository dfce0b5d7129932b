"""Build the course as a static JupyterLite site that needs no network at all.

    python site/build.py OUT            # OUT: a new folder (an existing one is replaced)
    python -m http.server -d OUT 8000   # then open http://127.0.0.1:8000/

The site is JupyterLite (JupyterLab and a REPL in the browser) with the Pyodide
kernel (CPython compiled to WebAssembly), purenn, hypothesis and the chapter
notebooks (``notebooks/*.ipynb``).  Everything the browser loads is inside OUT:
copy the folder to any static web server (GitHub Pages, a school's server, a
USB stick served by ``python -m http.server``) and it works without internet.

Where each piece comes from (every version pinned, so a build is reproducible):

=============================  ===============================================
JupyterLite                    PyPI ``jupyterlite-core``, ``jupyterlite-pyodide-
                               kernel`` and their dependencies:
                               ``site/requirements.txt``, installed into the
                               builder's own venv ``site/.cache/venv``
Pyodide                        npm ``pyodide`` (``site/package.json`` and its
                               lock file): the interpreter and its standard
                               library; its own package wheels are not on npm
Python packages in the browser the pure-Python wheels of PyPI at the versions
                               of Pyodide's lock file (micropip, IPython, jedi
                               and their dependencies: what the kernel starts
                               with) and of ``EXTRA_WHEELS`` (hypothesis, ...)
purenn                         a wheel built from this checkout
=============================  ===============================================

Pyodide verifies every package it loads against the sha256 in
``pyodide-lock.json``; PyPI's wheels differ byte for byte from the ones
Pyodide builds, so the lock file is rewritten: it lists exactly the wheels
shipped, with their own sha256.  purenn and hypothesis are in it too, and the
kernel loads them at start (``loadPyodideOptions.packages``): a notebook just
says ``import purenn``, and so does a REPL link
(``repl/index.html?kernel=python&toolbar=1&code=import purenn``).

Needs: Python 3.8+, Node.js with npm, and PyPI/npm the first time (downloads
are kept in ``site/.cache``; later builds run offline).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".cache")
NOTEBOOKS = os.path.join(ROOT, "notebooks")

PYODIDE_PYTHON = "3.14"
"""The CPython inside the pinned npm ``pyodide`` (checked against its lock file)."""

KERNEL_PACKAGES = ("micropip", "comm", "jedi", "ipython")
"""What the Pyodide kernel installs when it starts, with their dependencies."""

EXTRA_WHEELS = {
    "comm": "0.2.3",              # the kernel's; not in Pyodide's lock file
    "hypothesis": "6.155.7",      # the newest without compiled parts
    "sortedcontainers": "2.4.0",  # hypothesis needs it
}
"""Pure-Python wheels from PyPI that are not in Pyodide's lock file."""

PRELOAD = ("purenn", "hypothesis")
"""Loaded by the kernel at start: the notebooks import them, nothing is installed."""

PYODIDE_FILES = ("pyodide.mjs", "pyodide.js", "pyodide.asm.mjs", "pyodide.asm.wasm",
                 "python_stdlib.zip", "package.json")
"""The files of npm ``pyodide`` the browser needs (no source maps, no type files)."""

APPS = ("lab", "notebooks", "tree", "repl")
"""JupyterLite's apps kept: JupyterLab, the notebook view, its file tree, the REPL."""

KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"

SIZE_BUDGET = 40 * 2 ** 20
"""The site may take 40 MiB (41.9 MB; source maps are left out): it goes onto USB sticks and
school servers, and every learner's browser downloads it.  A build over it fails."""

LEGACY_FONTS = re.compile(r"^fa-[a-z]+-\d+\.(eot|svg|ttf)$")
"""Font Awesome's fallbacks for old browsers in ``build/`` (2.6 MB): its CSS lists woff2 and
woff first (after an ``.eot`` that only Internet Explorer reads), so every browser that runs
Pyodide's WebAssembly takes those; the browser test fails if one of these is ever asked for."""

SOURCE_DATE_EPOCH = 1767225600
"""2026-01-01: the time stamp written into the built files (reproducible builds)."""


def log(msg):
    print("[site] " + msg, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def normalize(name):
    """A distribution name as PEP 503 compares them: ``Prompt_Toolkit`` -> ``prompt-toolkit``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def stamp_ok(folder, stamp):
    path = os.path.join(folder, ".purenn-stamp")
    if os.path.exists(path):
        with open(path) as f:
            return f.read() == stamp
    return False


def write_stamp(folder, stamp):
    with open(os.path.join(folder, ".purenn-stamp"), "w") as f:
        f.write(stamp)


# ------------------------------------------------------------ the tools

def builder_venv():
    """site/.cache/venv with site/requirements.txt; remade when that file changes."""
    with open(os.path.join(HERE, "requirements.txt")) as f:
        stamp = f.read()
    venv = os.path.join(CACHE, "venv")
    bindir = "Scripts" if os.name == "nt" else "bin"
    python = os.path.join(venv, bindir, "python")
    if stamp_ok(venv, stamp) and os.path.exists(python):
        return python
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", venv])
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "-r", os.path.join(HERE, "requirements.txt")])
    write_stamp(venv, stamp)
    return python


def node_packages():
    """site/node_modules from site/package.json and its lock file (``npm ci``)."""
    if shutil.which("npm") is None:
        raise SystemExit("site/build.py: npm is needed (Debian: apt-get install -y nodejs npm)")
    marker = os.path.join(HERE, "node_modules", ".package-lock.json")
    lock = os.path.join(HERE, "package-lock.json")
    if not (os.path.exists(marker) and os.path.getmtime(marker) >= os.path.getmtime(lock)):
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE)
    return os.path.join(HERE, "node_modules", "pyodide")


# ------------------------------------------------------------ the wheels

def closure(lock, names):
    """``names`` and everything they depend on in Pyodide's lock: {key: entry}."""
    keys = {normalize(k): k for k in lock["packages"]}
    out = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = keys.get(normalize(name))
        if key is None or key in out:
            continue
        out[key] = lock["packages"][key]
        todo.extend(out[key]["depends"])
    return out


def download_wheels(requirements):
    """Pure-Python wheels for Pyodide's CPython, one pinned ``name==version``
    each, downloaded once into site/.cache/wheels: {normalized name: path}."""
    folder = os.path.join(CACHE, "wheels")
    os.makedirs(folder, exist_ok=True)
    found = {}
    missing = []
    for req in requirements:
        name, version = req.split("==")
        path = _wheel_in(folder, name, version)
        if path:
            found[normalize(name)] = path
        else:
            missing.append(req)
    if missing:
        run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
             "--no-deps", "--only-binary=:all:", "--implementation", "py", "--abi", "none",
             "--platform", "any", "--python-version", PYODIDE_PYTHON, "-d", folder] + missing)
        for req in missing:
            name, version = req.split("==")
            path = _wheel_in(folder, name, version)
            if not path:
                raise SystemExit("site/build.py: no pure-Python wheel of %s on PyPI" % req)
            found[normalize(name)] = path
    return found


def _wheel_in(folder, name, version):
    for f in os.listdir(folder):
        if f.endswith(".whl"):
            dist, ver = f.split("-")[:2]
            if normalize(dist) == normalize(name) and ver == version:
                return os.path.join(folder, f)
    return None


def purenn_wheel(python, out):
    """A wheel of this checkout, built from a copy (the tree stays clean)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
            ".git", ".ci", "site", "node_modules", "build", "dist", "*.egg-info",
            "__pycache__", ".hypothesis", ".pytest_cache"))
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(SOURCE_DATE_EPOCH))
        run([python, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
             "--no-build-isolation", "-w", out, src], env=env)
    wheels = [f for f in os.listdir(out) if f.startswith("purenn-") and f.endswith(".whl")]
    if len(wheels) != 1:
        raise SystemExit("site/build.py: expected one purenn wheel, got %r" % wheels)
    return os.path.join(out, wheels[0])


def wheel_metadata(path):
    """(name, version, top-level import names, requirements) of a wheel."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = z.read(meta_name).decode("utf-8")
    fields = {}
    requires = []
    for line in meta.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(": ")
        if key == "Requires-Dist":
            requires.append(value)
        else:
            fields.setdefault(key, value)
    tops = sorted({n.split("/", 1)[0].rsplit(".py", 1)[0] for n in names
                   if not n.split("/", 1)[0].endswith((".dist-info", ".data"))})
    return fields["Name"], fields["Version"], tops, requires


def lock_entry(path, depends):
    """A pyodide-lock.json entry for a wheel file."""
    name, version, imports, _ = wheel_metadata(path)
    return {"name": name, "version": version, "file_name": os.path.basename(path),
            "install_dir": "site", "sha256": sha256(path), "package_type": "package",
            "imports": imports, "depends": sorted(depends), "unvendored_tests": False,
            "shared_library": False}


# ------------------------------------------------------------ the site

def pyodide_folder(npm_pyodide, purenn, dest):
    """static/pyodide: the interpreter from npm, the wheels, and a lock file
    that lists exactly these wheels with their own sha256."""
    with open(os.path.join(npm_pyodide, "pyodide-lock.json")) as f:
        lock = json.load(f)
    python = ".".join(lock["info"]["python"].split(".")[:2])
    if python != PYODIDE_PYTHON:
        raise SystemExit("site/build.py: npm pyodide has Python %s, PYODIDE_PYTHON says %s"
                         % (python, PYODIDE_PYTHON))
    os.makedirs(dest)
    for f in PYODIDE_FILES:
        shutil.copy2(os.path.join(npm_pyodide, f), dest)
    from_lock = closure(lock, KERNEL_PACKAGES)
    reqs = ["%s==%s" % (e["name"], e["version"]) for e in from_lock.values()]
    reqs += ["%s==%s" % kv for kv in sorted(EXTRA_WHEELS.items())]
    wheels = download_wheels(reqs)
    wheels["purenn"] = purenn
    packages = {}
    for key, path in sorted(wheels.items()):
        shutil.copy2(path, dest)
        old = from_lock.get(key) or from_lock.get(key.replace("-", "_"))
        if old is not None:
            depends = old["depends"]
        else:  # a wheel not in Pyodide's lock: its own unconditional requirements
            depends = [normalize(re.split(r"[ ;<>=!~(\[]", r, 1)[0])
                       for r in wheel_metadata(path)[3] if ";" not in r]
        entry = lock_entry(os.path.join(dest, os.path.basename(path)), depends)
        packages[normalize(entry["name"])] = entry
    for entry in packages.values():
        for dep in entry["depends"]:
            if normalize(dep) not in packages:
                raise SystemExit("site/build.py: %s needs %s, which is not shipped"
                                 % (entry["name"], dep))
    lock["packages"] = packages
    with open(os.path.join(dest, "pyodide-lock.json"), "w") as f:
        json.dump(lock, f, indent=1, sort_keys=True)
    return sorted(os.path.basename(p) for p in wheels.values())


def lite_config():
    """jupyter-lite.json: the local Pyodide (the addon sets pyodideUrl), no
    PyPI, purenn and hypothesis loaded at start, no news from the internet."""
    return {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "purenn",
            "litePluginSettings": {
                KERNEL_PLUGIN: {
                    "disablePyPIFallback": True,
                    "loadPyodideOptions": {"packages": list(PRELOAD)},
                },
            },
        },
    }


def notebook_sources():
    nbs = sorted(f for f in os.listdir(NOTEBOOKS) if re.match(r"ch\d+.*\.ipynb$", f))
    if not nbs:
        raise SystemExit("site/build.py: no notebooks in %s" % NOTEBOOKS)
    return [os.path.join(NOTEBOOKS, f) for f in nbs]


def check_notebooks_in_sync():
    """The .ipynb files must be what their text sources make (notebooks/sync.py)."""
    run([sys.executable, os.path.join(NOTEBOOKS, "sync.py"), "--check"])


def make_readable(path):
    """Every file 0644 and folder 0755: a web server running as another user must read them
    (copies keep the mode of their source, and a temporary file's is 0600)."""
    for base, dirs, files in os.walk(path):
        for d in dirs:
            os.chmod(os.path.join(base, d), 0o755)
        for f in files:
            os.chmod(os.path.join(base, f), 0o644)
    os.chmod(path, 0o755)


def remove_legacy_fonts(folder):
    """Delete the ``LEGACY_FONTS`` of JupyterLite's ``build/``: [(name, bytes)]."""
    removed = []
    for f in sorted(os.listdir(folder)):
        if LEGACY_FONTS.match(f):
            path = os.path.join(folder, f)
            removed.append((f, os.path.getsize(path)))
            os.remove(path)
    return removed


def folder_size(path):
    total, count = 0, 0
    for base, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(base, f))
            count += 1
    return total, count


def build(out):
    t0 = time.time()
    check_notebooks_in_sync()
    python = builder_venv()
    npm_pyodide = node_packages()
    out = os.path.abspath(out)
    with tempfile.TemporaryDirectory() as tmp:
        lite = os.path.join(tmp, "lite")
        os.makedirs(lite)
        purenn = purenn_wheel(python, os.path.join(tmp, "purenn-wheel"))
        shipped = pyodide_folder(npm_pyodide, purenn, os.path.join(lite, "static", "pyodide"))
        with open(os.path.join(lite, "jupyter-lite.json"), "w") as f:
            json.dump(lite_config(), f, indent=2)
        contents = os.path.join(tmp, "contents")
        os.makedirs(contents)
        for nb in notebook_sources():
            shutil.copy2(nb, contents)
        # JupyterLite sets the time stamp of every file under the output folder's *parent*
        # (jupyterlite_core's copy_one: maybe_timestamp(dest.parent), recursively), so it
        # builds into a folder of its own here, never next to the user's files, then moves
        built = os.path.join(tmp, "built", "site")
        jupyter = os.path.join(os.path.dirname(python), "jupyter")
        cmd = [jupyter, "lite", "build", "--lite-dir", lite, "--output-dir", built,
               "--contents", contents, "--no-sourcemaps", "--no-unused-shared-packages",
               "--source-date-epoch", str(SOURCE_DATE_EPOCH)]
        for app in APPS:
            cmd += ["--apps", app]
        env = dict(os.environ, JUPYTERLITE_NO_LIBARCHIVE="1")
        run(cmd, cwd=lite, env=env)
        if os.path.exists(out):
            shutil.rmtree(out)
        shutil.move(built, out)
    for junk in (".jupyterlite.doit.db",):
        if os.path.exists(os.path.join(out, junk)):
            os.remove(os.path.join(out, junk))
    pruned = remove_legacy_fonts(os.path.join(out, "build"))
    make_readable(out)
    size, count = folder_size(out)
    log("shipped wheels: " + ", ".join(shipped))
    log("left out %d legacy font files (%.1f MB): %s"
        % (len(pruned), sum(size for _, size in pruned) / 1e6, ", ".join(n for n, _ in pruned)))
    log("built %s: %d files, %.1f MB (%.1f MiB of the %d MiB budget), in %.0f s"
        % (out, count, size / 1e6, size / 2 ** 20, SIZE_BUDGET // 2 ** 20, time.time() - t0))
    if size > SIZE_BUDGET:
        raise SystemExit("site/build.py: the site is %.1f MiB, over its budget of %d MiB "
                         "(SIZE_BUDGET in site/build.py): what grew?"
                         % (size / 2 ** 20, SIZE_BUDGET // 2 ** 20))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="the folder to build the site into (replaced if it exists)")
    args = parser.parse_args(argv)
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
