"""Progress on a terminal: one bar for the batch, one for the stage that is running.

Only when stderr is a terminal and neither ``-q`` nor ``--log-json`` is given: pipelines read
logs, people watch bars. The stage bar counts seconds of audio where a stage reports them
(transcription), so its ETA is real; other stages show their name.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm


class TerminalProgress:
    def __init__(self, files: int) -> None:
        self.files = tqdm(total=files, unit="file", desc="ccgen", position=0, leave=True,
                          dynamic_ncols=True) if files > 1 else None
        self.stage: tqdm | None = None
        self._current: tuple[Path, str] | None = None

    def step(self, src: Path, stage: str, done: float | None = None,
             total: float | None = None) -> None:
        if (src, stage) != self._current:
            self._close_stage()
            self._current = (src, stage)
            self.stage = tqdm(total=round(total, 1) if total else None,
                              unit="s" if total else "it", desc=f"{src.name}: {stage}",
                              position=1 if self.files else 0, leave=False,
                              dynamic_ncols=True,
                              bar_format=None if total else "{desc} {elapsed}")
        if self.stage is not None and done is not None:
            self.stage.n = round(done, 1)
            self.stage.refresh()

    def file_done(self) -> None:
        self._close_stage()
        if self.files is not None:
            self.files.update(1)

    def _close_stage(self) -> None:
        if self.stage is not None:
            self.stage.close()
            self.stage, self._current = None, None

    def close(self) -> None:
        self._close_stage()
        if self.files is not None:
            self.files.close()
