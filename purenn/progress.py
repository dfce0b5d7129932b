"""A one-line text progress bar, for long jobs run from a terminal: the one bar
purenn draws (the MNIST inference, the download, the trainer's epochs).

>>> import io
>>> out = io.StringIO()
>>> bar = Progress(200, "images", out=out, width=10)
>>> bar.update(50); bar.update(150); bar.done()
>>> out.getvalue().split("\\r")[-1]
'[##########] 200/200 images 100%\\n'
>>> out = io.StringIO()
>>> bar = Progress(8, "steps", out=out, width=8, prefix="epoch  2/10")
>>> bar.update(3, note="loss 0.5000  1.2 s")
>>> out.getvalue()
'\\repoch  2/10 [###-----] 3/8 steps  37% loss 0.5000  1.2 s'
"""
import sys
import time


class Progress:
    """``prefix [#####-----] done/total unit percent note``, redrawn in place
    with ``\\r`` on ``out`` (stderr by default, so that piped output stays
    clean).  Redraws at most ten times a second (and always at the end);
    ``total=None`` (unknown size) shows a count.  ``note`` (given to
    ``update``) is any text after the bar, such as the running loss."""

    def __init__(self, total, unit="", out=None, width=30, prefix=""):
        self.total, self.unit, self.width, self.prefix = total, unit, width, prefix
        self.out = out if out is not None else sys.stderr
        self.count, self._last, self._shown, self._note = 0, 0.0, None, ""
        self._drawn_width = 0

    def update(self, n, note=None):
        """Count ``n`` more units done; ``note`` replaces the text after the bar."""
        self.count += n
        if note is not None:
            self._note = note
        now = time.time()
        if now - self._last >= 0.1 or (self.total is not None and self.count >= self.total):
            self._last = now
            self._draw()

    def text(self):
        """The bar as it is drawn now (without the ``\\r``)."""
        if self.total:
            share = min(1.0, self.count / float(self.total))
            full = int(share * self.width)
            text = "[%s%s] %d/%d %s %3d%%" % ("#" * full, "-" * (self.width - full),
                                              self.count, self.total, self.unit, share * 100)
        else:
            text = "%d %s" % (self.count, self.unit)
        if self.prefix:
            text = self.prefix + " " + text
        return text + (" " + self._note if self._note else "")

    def _draw(self):
        if self._shown == (self.count, self._note):
            return
        self._shown = (self.count, self._note)
        text = self.text()
        self.out.write("\r" + text)
        self.out.flush()
        self._drawn_width = len(text)

    def clear(self):
        """Wipe the bar from its line (so that a line written next starts clean)."""
        if self._drawn_width:
            self.out.write("\r" + " " * self._drawn_width + "\r")
            self.out.flush()
            self._drawn_width = 0

    def done(self):
        """Draw the final state and end the line."""
        self._draw()
        self.out.write("\n")
        self.out.flush()
        self._drawn_width = 0
