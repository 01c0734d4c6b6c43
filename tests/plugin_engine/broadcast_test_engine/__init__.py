"""A third-party engine as a package would ship one: it only knows `broadcast.engines`."""

import numpy as np

from broadcast.engines import Engine, VoiceInfo
from broadcast.models import Clip


class BeeperEngine(Engine):
    name = "beeper"
    version = "1.0"
    sample_rate = 8000

    def voices(self):
        return [VoiceInfo("beeper:high", "en", None, "a high beep"), VoiceInfo("beeper:low", "en", None, "a low beep")]

    def synthesize(self, text, voice):
        freq = 880.0 if voice.base == "high" else 220.0
        t = np.arange(int(self.sample_rate * 0.1 * len(text.split()))) / self.sample_rate
        return Clip((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), self.sample_rate)


class FaultyEngine(BeeperEngine):
    """Speaks like the beeper, except that the word HANG hangs it and the word CRASH kills its process."""

    name = "faulty"

    def voices(self):
        return [VoiceInfo("faulty:high", "en", None, "a beep that can fail")]

    def synthesize(self, text, voice):
        import os
        import time

        if "HANG" in text:
            time.sleep(3600)
        if "CRASH" in text:
            os._exit(9)
        return super().synthesize(text, voice)
