// Run purenn's test suite and its tour on Pyodide (CPython compiled to WebAssembly) under Node.js.
//
//   node ci/pyodide_run.mjs --wheels DIR [--no-tour] [--no-tests] [-- PYTEST_ARG...]
//   node ci/pyodide_run.mjs --script FILE [-- ARG...]     (just run FILE as __main__)
//
// Fully offline: the npm package `pyodide` carries the interpreter and its standard library,
// and the test requirements come from local wheel files in DIR (ci/runtimes.py downloads them
// with `pip download`): micropip is loaded from its wheel there and installs the others from
// Pyodide's filesystem (emfs:), without dependency resolution (the folder holds all of them).
//
// The repository (and ../shared beside it, when present) are mounted into Pyodide's filesystem
// at their own absolute paths, so relative paths in tests keep working.  Steps:
//   1. `import purenn` and the tour (`python -m purenn`, the main job without data downloads);
//   2. `python -m pytest PYTEST_ARG...` in the repository.
// The exit code is 0 only when both succeed.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadPyodide, version as pyodideVersion } from "pyodide";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, "..");

function parseArgs(argv) {
  const opts = { wheels: null, tour: true, tests: true, script: null, pytestArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { opts.pytestArgs = argv.slice(i + 1); break; }
    else if (a === "--wheels") opts.wheels = path.resolve(argv[++i]);
    else if (a === "--no-tour") opts.tour = false;
    else if (a === "--no-tests") opts.tests = false;
    else if (a === "--script") { opts.script = path.resolve(argv[++i]); opts.tour = opts.tests = false; }
    else throw new Error(`unknown option ${a}`);
  }
  if (opts.tests && !opts.wheels) throw new Error("--wheels DIR is needed to run the tests");
  return opts;
}

function mount(py, hostDir) {
  py.FS.mkdirTree(hostDir);
  py.FS.mount(py.FS.filesystems.NODEFS, { root: hostDir }, hostDir);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const py = await loadPyodide();
  // raw writes: pytest's progress dots stay on one line
  py.setStdout({ write: (buf) => { process.stdout.write(buf); return buf.length; } });
  py.setStderr({ write: (buf) => { process.stderr.write(buf); return buf.length; } });
  mount(py, ROOT);
  const shared = path.resolve(ROOT, "..", "shared");
  if (fs.existsSync(shared)) mount(py, shared);

  py.globals.set("ROOT", ROOT);
  py.runPython(`
import os, sys, platform
os.chdir(ROOT)
sys.path.insert(0, ROOT)
print("pyodide: Pyodide %s (Python %s)" % (${JSON.stringify(pyodideVersion)}, platform.python_version()))
`);
  let failed = false;

  if (opts.script) {
    // any script of the repository, e.g. benchmarks/bench_runtimes.py
    py.globals.set("SCRIPT", opts.script);
    py.globals.set("SCRIPT_ARGS", py.toPy(opts.pytestArgs));
    const rc = py.runPython(`
import runpy
sys.argv = [SCRIPT] + list(SCRIPT_ARGS)
try:
    runpy.run_path(SCRIPT, run_name="__main__")
    _rc = 0
except SystemExit as e:
    _rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
_rc
`);
    if (rc !== 0) failed = true;
  }

  if (opts.tour) {
    // the main job, as `python -m purenn` runs it
    const rc = py.runPython(`
import runpy
sys.argv = ["purenn"]
try:
    runpy.run_module("purenn", run_name="__main__", alter_sys=True)
    _rc = 0
except SystemExit as e:
    _rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
_rc
`);
    console.log(`pyodide: tour exit code ${rc}`);
    if (rc !== 0) failed = true;
  }

  if (opts.tests) {
    const wheels = fs.readdirSync(opts.wheels).filter((f) => f.endsWith(".whl"));
    const micropip = wheels.find((f) => f.startsWith("micropip-"));
    if (micropip) {
      await py.loadPackage(path.join(opts.wheels, micropip));
    } else {
      throw new Error(`no micropip wheel in ${opts.wheels}`);
    }
    mount(py, opts.wheels);
    const others = wheels.filter((f) => f !== micropip).map((f) => "emfs:" + path.join(opts.wheels, f));
    py.globals.set("WHEELS", py.toPy(others));
    await py.runPythonAsync(`
import micropip
await micropip.install(list(WHEELS), deps=False)
`);
    py.globals.set("PYTEST_ARGS", py.toPy(opts.pytestArgs));
    const rc = py.runPython(`
import pytest
os.chdir(ROOT)
int(pytest.main(list(PYTEST_ARGS)))
`);
    console.log(`pyodide: pytest exit code ${rc}`);
    if (rc !== 0) failed = true;
  }
  return failed ? 1 : 0;
}

main().then(
  (rc) => { process.exitCode = rc; },
  (err) => { console.error(err); process.exitCode = 2; },
);
