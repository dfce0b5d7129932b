"""Bad paths and numbers on the command line: a message and exit status 1,
never a traceback (plot --svg, explain --exact, download-mnist --dir)."""
import socket

import pytest

from purenn.cli import main


def _message_exit(argv):
    """Run the CLI; -> the message it exits with (SystemExit or status 1)."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert isinstance(e.value.code, str), e.value.code   # a message, so exit status 1
    return e.value.code


def test_plot_svg_to_a_folder_is_a_message(tmp_path):
    msg = _message_exit(["plot", "sigmoid", "--svg", str(tmp_path)])
    assert msg.startswith("purenn plot: cannot write %s" % tmp_path)


def test_plot_svg_in_a_missing_folder_is_a_message(tmp_path):
    target = tmp_path / "no" / "such" / "folder" / "a.svg"
    msg = _message_exit(["plot", "sigmoid", "--svg", str(target)])
    assert "cannot write" in msg and not target.exists()


def test_plot_svg_still_writes(tmp_path, capsys):
    target = tmp_path / "a.svg"
    assert main(["plot", "sigmoid", "--svg", str(target)]) == 0
    assert target.read_text().startswith("<?xml")


@pytest.mark.parametrize("a", ["[[NaN]]", "[[1e400]]", "[[-Infinity, 1]]"])
def test_explain_exact_of_nan_or_inf_is_a_message(a):
    b = "[[1]]" if a != "[[-Infinity, 1]]" else "[[1], [2]]"
    msg = _message_exit(["explain", "matmul", a, b, "--exact"])
    assert "--exact needs finite numbers" in msg


def test_explain_network_exact_of_nan_is_a_message():
    msg = _message_exit(["explain", "network", "--x", "nan", "1", "--exact"])
    assert "--exact needs finite numbers, got nan" in msg


def test_explain_exact_still_works(capsys):
    main(["explain", "matmul", "[[0.1]]", "[[3]]", "--exact"])
    assert "3/10" in capsys.readouterr().out


@pytest.mark.processes
def test_download_into_a_folder_that_cannot_be_made_is_a_message(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    code = main(["download-mnist", "--dir", str(blocker / "mnist"), "--quiet",
                 "--mirror", "http://127.0.0.1:%d/" % port])
    assert code == 1
    assert "cannot create the folder %s" % (blocker / "mnist") in capsys.readouterr().err
