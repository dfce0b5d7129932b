"""purenn's own small seeded random number generator.

``random.Random`` differs between Pythons (and MicroPython has none), so
purenn brings its own: **splitmix64** (Steele, Lea and Flood, 2014), a 64-bit
counter passed through a mixing function.  Integer arithmetic only, so the
same seed gives the same bits on every Python.

===================  ===================================================
``Random(seed)``     a generator; ``random()`` in [0, 1), ``uniform(a, b)``,
                     ``gauss(mu, sigma)``, ``randrange(n)``, ``shuffle(x)``,
                     ``permutation(n)``, ``choice(n, k)``
``seed(n)``          reseed purenn's shared generator
``generator(seed)``  a ``Random`` for a seed, a ``Random`` as is, or the
                     shared one for ``None``
===================  ===================================================

>>> Random(0).next64() == 0xE220A8397B1DCDAF    # splitmix64's published first value
True
>>> g = Random(42)
>>> [g.randrange(10) for _ in range(8)]
[2, 4, 5, 0, 3, 5, 9, 3]
>>> Random(42).random()
0.7415648787718233
"""
import math

_MASK = (1 << 64) - 1


class Random:
    """A splitmix64 generator: ``state += golden; return mix(state)``.

    The state is 64 bits, so seeds are taken modulo 2**64 (``Random(-1)`` is
    ``Random(2**64 - 1)``, ``Random(2**64)`` is ``Random(0)``).
    """

    def __init__(self, seed=0):
        if type(seed) is not int:
            raise TypeError("Random: seed must be an int, got %r" % (seed,))
        self._state = seed & _MASK
        self._spare = None

    def next64(self):
        """The next 64 random bits as an int in [0, 2**64)."""
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self):
        """A float in [0, 1): the top 53 bits of ``next64`` times 2**-53."""
        return (self.next64() >> 11) * (1.0 / 9007199254740992.0)

    def uniform(self, low=0.0, high=1.0):
        """A float in [low, high)."""
        return low + (high - low) * self.random()

    def gauss(self, mu=0.0, sigma=1.0):
        """A normal deviate by Marsaglia's polar method (pairs; the second is kept).

        Uses ``math.log`` and ``math.sqrt``: identical wherever the C library's
        ``log`` is (all interpreters on one machine).
        """
        if self._spare is not None:
            z, self._spare = self._spare, None
            return mu + sigma * z
        while True:
            u = 2.0 * self.random() - 1.0
            v = 2.0 * self.random() - 1.0
            s = u * u + v * v
            if 0.0 < s < 1.0:
                break
        f = math.sqrt(-2.0 * math.log(s) / s)
        self._spare = v * f
        return mu + sigma * u * f

    def randrange(self, n):
        """An int in [0, n), every value equally likely (rejection sampling)."""
        if type(n) is not int or n < 1:
            raise ValueError("randrange: n must be a positive int, got %r" % (n,))
        bits = n.bit_length() if hasattr(n, "bit_length") else len(bin(n)) - 2
        while True:
            r = self.next64() >> (64 - bits) if bits <= 64 else self._bigbits(bits)
            if r < n:
                return r

    def _bigbits(self, bits):
        r, have = 0, 0
        while have < bits:
            r = (r << 64) | self.next64()
            have += 64
        return r >> (have - bits)

    def shuffle(self, items):
        """Shuffle a list in place (Fisher-Yates)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.randrange(i + 1)
            items[i], items[j] = items[j], items[i]

    def permutation(self, n):
        """A shuffled ``list(range(n))``."""
        items = list(range(n))
        self.shuffle(items)
        return items

    def choice(self, n, k):
        """``k`` indices drawn from range(n) with replacement (the book's
        ``np.random.choice(train_size, batch_size)``)."""
        return [self.randrange(n) for _ in range(k)]


_shared = Random(0)


def seed(n):
    """Reseed purenn's shared generator (used where no seed is given)."""
    global _shared
    _shared = Random(n)


def generator(seed=None):
    """A ``Random`` for ``seed``: an int makes a new one, a ``Random`` is used
    as is, ``None`` gives the shared generator."""
    if seed is None:
        return _shared
    if isinstance(seed, Random):
        return seed
    return Random(seed)
