"""The duty console's alert cue, ``assets/alert.wav``: three rising tones, 0.9 s, made here
rather than downloaded (``python -m dashboard.sound`` writes it again)."""
from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 11025
TONES = ((880.0, 0.22), (1175.0, 0.22), (1568.0, 0.42))   # A5, D6, G6
PATH = Path(__file__).resolve().parent / "assets" / "alert.wav"


def samples() -> list[int]:
    out: list[int] = []
    for freq, secs in TONES:
        n = int(RATE * secs)
        for i in range(n):
            env = min(1.0, i / (0.01 * RATE)) * min(1.0, (n - i) / (0.05 * RATE))   # no clicks
            v = math.sin(2 * math.pi * freq * i / RATE) + 0.3 * math.sin(4 * math.pi * freq * i / RATE)
            out.append(int(0.45 * 32767 * env * v / 1.3))
    return out


def write(path: Path = PATH) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples()))
    return path


if __name__ == "__main__":
    print(write())
