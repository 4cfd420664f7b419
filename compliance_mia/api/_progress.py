"""Progress for Python callers: a notebook or terminal bar, a callback, or silence.

The runner reports through its :class:`~compliance_mia.runner.Progress`
protocol (``stage`` / ``advance``). Here that protocol is drawn with
``tqdm.auto`` (a widget in Jupyter, a text bar in a terminal), forwarded to a
plain callable, or dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["CallbackProgress", "ProgressLike", "SilentProgress", "TqdmProgress", "make_progress"]


@runtime_checkable
class _StageAdvance(Protocol):
    def stage(self, description: str, total: int | None = None) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


#: What ``progress=`` accepts: ``"auto"`` (tqdm when installed, else silent), ``"tqdm"``, ``None``/``False``
#: (silent), an object with ``stage``/``advance``, or a callable ``f(description, completed, total)``.
ProgressLike = Literal["auto", "tqdm"] | None | bool | _StageAdvance | Callable[[str, int, int | None], Any]


class SilentProgress:
    """Reports nothing."""

    def stage(self, description: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class CallbackProgress:
    """Forwards every change to ``callback(description, completed, total)``."""

    def __init__(self, callback: Callable[[str, int, int | None], Any]) -> None:
        self._callback = callback
        self._description = ""
        self._completed = 0
        self._total: int | None = None

    def stage(self, description: str, total: int | None = None) -> None:
        self._description, self._completed, self._total = description, 0, total
        self._callback(description, 0, total)

    def advance(self, amount: int = 1) -> None:
        self._completed += amount
        self._callback(self._description, self._completed, self._total)

    def close(self) -> None:
        pass


class TqdmProgress:
    """One ``tqdm.auto`` bar, reset at each stage (a widget in Jupyter, text in a terminal)."""

    def __init__(self) -> None:
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self._bar: Any = None

    def stage(self, description: str, total: int | None = None) -> None:
        if self._bar is None:
            try:
                self._bar = self._tqdm(total=total, desc=description, leave=True, dynamic_ncols=True)
            except ImportError:  # Jupyter without ipywidgets: tqdm.auto cannot draw a widget; draw text
                from tqdm.std import tqdm

                self._tqdm = tqdm
                self._bar = tqdm(total=total, desc=description, leave=True, dynamic_ncols=True)
        else:
            self._bar.reset(total=total)
            self._bar.set_description_str(description)

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(amount)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.set_description_str("Done")
            self._bar.close()
            self._bar = None


def make_progress(progress: ProgressLike) -> Any:
    """The reporter for a ``progress=`` argument (it has ``stage``, ``advance`` and ``close``)."""
    if progress is None or progress is False:
        return SilentProgress()
    if progress is True or progress == "auto":
        try:
            return TqdmProgress()
        except ImportError:
            return SilentProgress()
    if progress == "tqdm":
        return TqdmProgress()
    if isinstance(progress, str):
        raise ValueError(f"progress={progress!r}: use 'auto', 'tqdm', None, a callable or a Progress object")
    if isinstance(progress, _StageAdvance):
        if not hasattr(progress, "close"):
            return _Closing(progress)
        return progress
    if callable(progress):
        return CallbackProgress(progress)
    raise TypeError(f"progress: expected 'auto', 'tqdm', None, a callable or a Progress object, got {progress!r}")


class _Closing:
    def __init__(self, inner: _StageAdvance) -> None:
        self._inner = inner

    def stage(self, description: str, total: int | None = None) -> None:
        self._inner.stage(description, total)

    def advance(self, amount: int = 1) -> None:
        self._inner.advance(amount)

    def close(self) -> None:
        pass
