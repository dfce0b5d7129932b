"""The chapter notebooks: each .ipynb is what its text source makes (notebooks/sync.py).

Running them is notebooks/execute.py's job (it needs nbclient: pip install ".[notebooks]");
these tests need nothing but the standard library.
"""
import importlib.util
import json
import os

import pytest

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")


def _load_sync():
    spec = importlib.util.spec_from_file_location("purenn_notebooks_sync",
                                                  os.path.join(NOTEBOOKS, "sync.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync = _load_sync()
SOURCES = sync.sources(NOTEBOOKS)


def test_a_notebook_for_each_chapter_2_to_8_in_the_books_order():
    chapters = [os.path.basename(s)[:4] for s in SOURCES]
    assert chapters == ["ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08"]


@pytest.mark.parametrize("source", SOURCES, ids=os.path.basename)
def test_committed_notebook_is_what_its_source_makes(source):
    with open(sync.target(source), encoding="utf-8") as f:
        committed = f.read()
    assert committed == sync.render(source), \
        "%s is stale: run python notebooks/sync.py" % os.path.basename(sync.target(source))


def test_no_notebook_without_a_source():
    assert sync.orphans(NOTEBOOKS) == []


@pytest.mark.parametrize("source", SOURCES, ids=os.path.basename)
def test_notebook_starts_with_its_chapter_title_in_japanese_and_english(source):
    kind, _, text = sync.parse(open(source, encoding="utf-8").read())[0]
    assert kind == "markdown"
    title = text.splitlines()[0]
    assert title.startswith("# 第") and "章" in title and "(Chapter " in title


def test_percent_format_cells_kinds_and_tags():
    text = "\n".join([
        "# ---", "# jupyter: ignored header", "# ---",
        "# %% [markdown]", "# # Title", "#", "# text", "",
        "# %%", "x = 1", "",
        '# %% tags=["long"]', "train()",
    ])
    assert sync.parse(text) == [("markdown", [], "# Title\n\ntext"),
                                ("code", [], "x = 1"),
                                ("code", ["long"], "train()")]


def test_notebook_document_has_no_outputs_and_stable_ids():
    nb = sync.to_notebook([("markdown", [], "a\nb"), ("code", ["long"], "x")], "ch09_demo")
    assert [c["id"] for c in nb["cells"]] == ["ch09-demo-00", "ch09-demo-01"]
    assert nb["cells"][0]["source"] == ["a\n", "b"]
    assert nb["cells"][1]["outputs"] == [] and nb["cells"][1]["execution_count"] is None
    assert nb["cells"][1]["metadata"] == {"tags": ["long"]}
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)
    json.dumps(nb)


@pytest.mark.parametrize("text,message", [
    ("x = 1\n# %%\ny = 2", "text before the first"),
    ("# %% [markdown]\nnot a comment", "must start with '# '"),
    ("# %% collapsed=true\nx", "only tags="),
    ("# ---\n# never closed", "never closed"),
    ("", "no cells"),
])
def test_malformed_source_is_a_clear_error(text, message):
    with pytest.raises(sync.SourceError, match=message):
        sync.parse(text, "demo.py")
