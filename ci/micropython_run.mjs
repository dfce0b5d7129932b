// Run a Python script on MicroPython (WebAssembly) under Node.js and exit with its status.
//
//   node ci/micropython_run.mjs [--heapsize 64M] [--mount DIR]... SCRIPT [ARG]...
//
// The npm package @micropython/micropython-webassembly-pyscript has a CLI of its own, but it
// always exits 0 and cannot see the host's files.  This runner copies the .py files of each
// --mount DIR (default: the repository root) into MicroPython's in-memory filesystem under the
// same absolute path, puts the script's folder first on sys.path, runs the script as __main__
// and turns its outcome into a real exit code: 0, the SystemExit code, or 1 for an exception.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import "@micropython/micropython-webassembly-pyscript";  // defines globalThis.loadMicroPython

const here = path.dirname(fileURLToPath(import.meta.url));
const SKIP = new Set([".git", "node_modules", "venvs", ".ci", "__pycache__", ".pytest_cache",
                     ".hypothesis", "build", "dist"]);

function parseSize(text) {
  const m = /^(\d+)([kKmM]?)$/.exec(text);
  if (!m) throw new Error(`bad heap size ${text}: use e.g. 64M`);
  return Number(m[1]) * ({ k: 1024, m: 1048576 }[m[2].toLowerCase()] || 1);
}

function parseArgs(argv) {
  const opts = { heapsize: 64 * 1048576, mounts: [], script: null, args: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (opts.script) opts.args.push(a);
    else if (a === "--heapsize") opts.heapsize = parseSize(argv[++i]);
    else if (a === "--mount") opts.mounts.push(path.resolve(argv[++i]));
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else opts.script = path.resolve(a);
  }
  if (!opts.script) throw new Error("usage: node micropython_run.mjs [--heapsize 64M] [--mount DIR]... SCRIPT [ARG]...");
  if (opts.mounts.length === 0) opts.mounts.push(path.resolve(here, ".."));
  return opts;
}

function mkdirs(FS, dir) {
  let cur = "";
  for (const part of dir.split("/").filter(Boolean)) {
    cur += "/" + part;
    try { FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}

function copyTree(FS, src) {
  let n = 0;
  mkdirs(FS, src);
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const p = path.join(src, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name) && !entry.name.startsWith(".")) n += copyTree(FS, p);
    } else if (entry.name.endsWith(".py")) {
      FS.writeFile(p, fs.readFileSync(p));
      n += 1;
    }
  }
  return n;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const mp = await globalThis.loadMicroPython({
    heapsize: opts.heapsize,
    stdout: (line) => process.stdout.write(line + "\n"),
    stderr: (line) => process.stderr.write(line + "\n"),
    linebuffer: true,
  });
  for (const dir of opts.mounts) copyTree(mp.FS, dir);
  mkdirs(mp.FS, path.dirname(opts.script));
  mp.FS.writeFile(opts.script, fs.readFileSync(opts.script));

  mp.globals.set("_runner_argv", JSON.stringify([opts.script, ...opts.args]));
  // The wrapper runs inside MicroPython: every outcome becomes the int _runner_rc.
  mp.runPython(`
import sys
import json
sys.argv[:] = json.loads(_runner_argv)
sys.path.insert(0, ${JSON.stringify(path.dirname(opts.script))})
_runner_rc = 0
try:
    with open(sys.argv[0]) as _f:
        _source = _f.read()
    exec(_source, {"__name__": "__main__", "__file__": sys.argv[0]})
except SystemExit as _e:
    _code = _e.args[0] if _e.args else 0
    _runner_rc = _code if isinstance(_code, int) else 1
    if not isinstance(_code, int):
        print(_code)
except BaseException as _e:
    sys.print_exception(_e)
    _runner_rc = 1
`);
  const rc = mp.globals.get("_runner_rc");
  return typeof rc === "number" ? rc : 1;
}

main().then(
  (rc) => { process.exitCode = rc; },
  (err) => { console.error(err); process.exitCode = 2; },
);
