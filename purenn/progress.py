"""A one-line text progress bar, for long jobs run from a terminal.

>>> import io
>>> out = io.StringIO()
>>> bar = Progress(200, "images", out=out, width=10)
>>> bar.update(50); bar.update(150); bar.done()
>>> out.getvalue().split("\\r")[-1]
'[##########] 200/200 images 100%\\n'
"""
import sys
import time


class Progress:
    """``[#####-----] done/total unit percent``, redrawn in place with ``\\r``
    on ``out`` (stderr by default, so that piped output stays clean).  Redraws
    at most ten times a second; ``total=None`` (unknown size) shows a count."""

    def __init__(self, total, unit="", out=None, width=30):
        self.total, self.unit, self.width = total, unit, width
        self.out = out if out is not None else sys.stderr
        self.count, self._last, self._shown = 0, 0.0, None

    def update(self, n):
        """Count ``n`` more units done."""
        self.count += n
        now = time.time()
        if now - self._last >= 0.1 or (self.total is not None and self.count >= self.total):
            self._last = now
            self._draw()

    def _draw(self):
        if self._shown == self.count:
            return
        self._shown = self.count
        if self.total:
            share = min(1.0, self.count / float(self.total))
            full = int(share * self.width)
            text = "[%s%s] %d/%d %s %3d%%" % ("#" * full, "-" * (self.width - full),
                                              self.count, self.total, self.unit, share * 100)
        else:
            text = "%d %s" % (self.count, self.unit)
        self.out.write("\r" + text)
        self.out.flush()

    def done(self):
        """Draw the final state and end the line."""
        self._draw()
        self.out.write("\n")
        self.out.flush()
