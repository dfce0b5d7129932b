"""Run the chapter notebooks top to bottom on CPython, as CI does.

    pip install ".[notebooks]"                 # nbclient, ipykernel, hypothesis
    python notebooks/execute.py                # every notebooks/chNN_*.ipynb
    python notebooks/execute.py ch03 --save DIR    # some of them; keep the executed copies

Each notebook runs in a fresh ``python3`` kernel from the notebooks folder; a
cell that raises fails the run (exit 1) and the cell's error is printed.
Cells tagged ``long`` (training) are timed apart: a notebook should take
under a minute without them.  The time of each notebook is printed;
``--timeout`` (seconds per cell, default 600) only guards against a hang.
The ``.ipynb`` files must be in sync with their sources (``sync.py --check``).
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import sync  # noqa: E402


def execute(path, timeout, save=None):
    """Run one notebook; returns (seconds in all, seconds in cells tagged long)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": HERE}})
    long_seconds = [0.0]
    run_cell = client.async_execute_cell

    async def timed_cell(cell, cell_index, **kw):
        t0 = time.time()
        try:
            return await run_cell(cell, cell_index, **kw)
        finally:
            if "long" in cell.get("metadata", {}).get("tags", []):
                long_seconds[0] += time.time() - t0

    client.async_execute_cell = timed_cell
    t0 = time.time()
    try:
        client.execute()
    finally:
        if save:
            os.makedirs(save, exist_ok=True)
            nbformat.write(nb, os.path.join(save, os.path.basename(path)))
    return time.time() - t0, long_seconds[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("only", nargs="*", help="run the notebooks whose names contain these")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (a hang guard)")
    parser.add_argument("--save", help="a folder for the executed notebooks (with outputs)")
    args = parser.parse_args(argv)
    if sync.main(["--check"]) != 0:
        return 1
    try:
        import nbclient  # noqa: F401
    except ImportError:
        print('notebooks/execute.py: needs nbclient and ipykernel: pip install ".[notebooks]"',
              file=sys.stderr)
        return 2
    from nbclient.exceptions import CellExecutionError

    paths = [sync.target(s) for s in sync.sources()]
    if args.only:
        paths = [p for p in paths if any(o in os.path.basename(p) for o in args.only)]
    failed = 0
    for path in paths:
        name = os.path.basename(path)
        try:
            seconds, long_seconds = execute(path, args.timeout, args.save)
        except CellExecutionError as e:
            failed += 1
            print("FAIL %s\n%s" % (name, e), flush=True)
            continue
        print("ok   %s: %.1f s (%.1f s of it in cells tagged long)"
              % (name, seconds, long_seconds), flush=True)
    print("%d passed, %d failed" % (len(paths) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
