"""Surge detectors on count series, one method per module (river-like shape).

Each is a small object with ``update(count, at) -> Score``; ``Score.alarm`` is
``score >= threshold`` once the warm-up (``grace_period`` observations) is over.

=========  =====================================================================
``C1``     CDC EARS C1: 7-period baseline, z-score (``ears.py``)
``C2``     EARS C2: as C1 behind a 2-period guard band
``C3``     EARS C3: the last three C2 values beyond 1, summed
``NBCusum`` negative-binomial / Poisson CUSUM over a moving baseline (``cusum.py``)
``Seasonal`` same-hour-of-week baseline, quasi-Poisson 2/3-power score, calendar
           aware (``seasonal.py``)
``SharePanel`` the default: each series against its usual share of the province,
           negative-binomial scan over 1 h .. 72 h windows (``share.py``); also
           the evaluation's ceiling when handed the true mean
``ShareScan`` the same on one series (``update(count, at, parent=None)``)
``Ceiling`` likelihood-ratio scan over 1 .. 6 steps handed the true mean (``ceiling.py``)
=========  =====================================================================
"""
from .base import Detector, Score
from .ceiling import Ceiling
from .cusum import NBCusum
from .ears import C1, C2, C3
from .seasonal import Seasonal
from .share import SharePanel, ShareScan

__all__ = ["Score", "Detector", "C1", "C2", "C3", "NBCusum", "Seasonal", "Ceiling", "SharePanel", "ShareScan"]
